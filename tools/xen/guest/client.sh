# SPDX-License-Identifier: BSD-2-Clause
# A client domU (side-by-side runs, docs/xen.md section 5): the project's
# tg-xen-client (src/xen-clients) with Debian's libteec.so.1; no
# tee-supplicant, except with tg.supplicant=1 (bigbuf --target ta: the
# bigbuf TA is a user TA, which tee-supplicant loads). The commands
# come from tg.cmd on the kernel command line: words joined by '+',
# commands separated by ';' (e.g. fair-time+--seconds+60;fair-time+...),
# run one after the other; each frames its lines with TG-CMD-BEGIN/END.
echo "TG-READY $TG_name $(uname -r) $(grep MemTotal /proc/meminfo)"
optee_probe_report
[ "${TG_supplicant:-0}" = 1 ] && start_supplicant /usr/bin/tee-supplicant
rc=0
IFS=';'
set -f
for c in $TG_cmd; do
	unset IFS
	args=$(echo "$c" | tr '+' ' ')
	t0=$(now)
	echo "TG-CMD-BEGIN $TG_name $t0 $args"
	# shellcheck disable=SC2086
	tg-xen-client $args 2>&1
	r=$?
	echo "TG-CMD-END $TG_name rc=$r secs=$(($(now) - t0))"
	[ $r -eq 0 ] || rc=1
	IFS=';'
done
unset IFS
# tg.linger=N: stay N seconds more (dom0 reads the mediator's counters
# for this domain while it still exists).
if [ "${TG_linger:-0}" -gt 0 ]; then
	echo "TG-LINGER $TG_name $TG_linger"
	sleep "$TG_linger"
fi
echo "TG-DONE $TG_name rc=$rc"
sync
poweroff -f
