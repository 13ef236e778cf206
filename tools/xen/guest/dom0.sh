# SPDX-License-Identifier: BSD-2-Clause
#
# dom0: starts Xen's tools and runs the job that tools/xen/run-xen put on
# dom0's kernel command line (tg.domus, tg.suites, ...). Everything goes
# back to the host over the console, which Xen sends to QEMU's first
# serial port: dom0's own "TG ..." lines, and each guest's xtest progress
# forwarded as "[NAME] line" (the case lines and xtest's summary; the
# full logs stay in dom0's /tmp/out and are printed at the end).
# Counters: teegate's console key 'E' (xl debug-keys E) between
# TG-COUNTERS-BEGIN/END markers, Xen's free memory as TG-MEM.
OUT=/tmp/out
mkdir -p "$OUT/console"
DOMUS=${TG_domus:-0}
SUITES=${TG_suites:-regression}
DOM0_SUITES=$(echo "${TG_dom0suites:-}" | tr -d ' ')
DOM0_WITH_DOMUS=${TG_dom0with:-0}
DEB_DOMU=${TG_deb:-0}
DESTROY=${TG_destroy:-}
DOMU_MEM=${TG_domumem:-512}
XTEST_ARGS=${TG_args:-}
TIMEOUT=${TG_timeout:-7200}
[ "$DOM0_SUITES" = none ] && DOM0_SUITES=
[ "$DESTROY" = none ] && DESTROY=

say() { echo "TG $*" >/dev/console; echo "$(now) $*" >>"$OUT/dom0.log"; }
counters() {
	echo "TG-COUNTERS-BEGIN $1 $(now)" >/dev/console
	xl debug-keys E
	sleep 2
	echo "TG-MEM $1 $(xl info | grep -E '^free_memory' | tr -s ' ')" >/dev/console
	echo "TG-COUNTERS-END $1" >/dev/console
}
# forward NAME FILE: the lines of FILE that show progress, as "[NAME] ...".
forward() {
	tail -n +1 -f "$2" 2>/dev/null | awk -v n="$1" '
		{ sub(/\r$/, "") }
		/^TG-/ || /^\* / || /^  [a-z0-9_.]+ (OK|FAILED)$/ || /FAILED first error/ ||
		/^Result of testsuite/ || /^[a-z0-9_]+ (OK|FAILED)/ ||
		/subtests? of which/ || /test cases? of which/ || /test cases? (were )?skipped/ ||
		/^teec-check:/ || /optee|tee-supplicant|Kernel panic|Oops/ {
			print "[" n "] " $0 > "/dev/console"; fflush("/dev/console")
		}'
}

# ---- Xen's tools ------------------------------------------------------------
mount -t xenfs xenfs /proc/xen || say "FATAL: no xenfs"
mkdir -p /var/lib/xen /var/lib/xenstored /var/log/xen /run/xen /run/xenstored
xenstored --pid-file=/run/xenstored.pid
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -S /run/xenstored/socket ] && break
	sleep 1
done
xen-init-dom0 >>"$OUT/dom0.log" 2>&1
xenconsoled --log=guest --log-dir="$OUT/console" --pid-file=/run/xenconsoled.pid
say "xen tools up: Xen $(xl info | sed -n 's/^xen_version *: //p'), job: domus=$DOMUS suites=$SUITES dom0=${DOM0_SUITES:-none} deb=$DEB_DOMU destroy=${DESTROY:-none} args=${XTEST_ARGS:-all}"
optee_probe_report | sed 's/^/[dom0] /' >/dev/console
[ -e /dev/tee0 ] && start_supplicant /usr/bin/tee-supplicant | sed 's/^/[dom0] /' >/dev/console
counters start

# ---- dom0's own xtest -------------------------------------------------------------
: >"$OUT/dom0-xtest.log"
forward dom0 "$OUT/dom0-xtest.log" &
dom0_run() {
	TG_suites=$DOM0_SUITES TG_args=$XTEST_ARGS TG_name=dom0 run_suites >>"$OUT/dom0-xtest.log"
	echo "TG-DONE dom0 rc=$?" >>"$OUT/dom0-xtest.log"
}
if [ -n "$DOM0_SUITES" ] && [ "$DOM0_WITH_DOMUS" != 1 ]; then
	say "dom0 xtest: $DOM0_SUITES"
	dom0_run
	sleep 2
	counters after-dom0
fi

# ---- the domUs --------------------------------------------------------------------
domu_create() { # NAME RAMDISK ROLE MEMORY
	cat >"/tmp/$1.cfg" <<CFG
name = "$1"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/$2"
memory = $4
vcpus = 1
tee = "optee"
extra = "console=hvc0 rdinit=/init tg.role=$3 tg.name=$1 tg.suites=$SUITES tg.args=$XTEST_ARGS"
CFG
	: >"$OUT/console/guest-$1.log"
	forward "$1" "$OUT/console/guest-$1.log" &
	if xl create "/tmp/$1.cfg" >>"$OUT/dom0.log" 2>&1; then
		say "created $1 (domid $(xl domid "$1"))"
	else
		say "FAILED to create $1: $(tail -n 2 "$OUT/dom0.log" | tr '\n' ' ')"
		echo "TG-DONE $1 rc=create-failed" >>"$OUT/console/guest-$1.log"
	fi
}
names=
i=1
while [ "$i" -le "$DOMUS" ]; do
	domu_create "domU$i" domU-xtest.cpio.gz domU "$DOMU_MEM"
	names="$names domU$i"
	i=$((i + 1))
done
if [ "$DEB_DOMU" = 1 ]; then
	domu_create domUdeb domU-deb.cpio.gz domU-deb 256
	names="$names domUdeb"
fi
dom0_pid=
if [ -n "$DOM0_SUITES" ] && [ "$DOM0_WITH_DOMUS" = 1 ]; then
	say "dom0 xtest: $DOM0_SUITES (with the domUs)"
	dom0_run &
	dom0_pid=$!
fi

# ---- wait; xl destroy one domU in the middle of its run if asked ----------------------
victim=${DESTROY%%:*}
after=${DESTROY#*:}
destroyed=
t_start=$(now)
while :; do
	left=
	for n in $names; do
		grep -q "^TG-DONE $n " "$OUT/console/guest-$n.log" 2>/dev/null && continue
		[ "$n" = "$destroyed" ] && continue
		if ! xl domid "$n" >/dev/null 2>&1; then
			sleep 3
			grep -q "^TG-DONE $n " "$OUT/console/guest-$n.log" && continue
			say "$n is gone without TG-DONE; the end of its console:"
			tail -n 40 "$OUT/console/guest-$n.log" | sed "s/^/[$n] | /" >/dev/console
			echo "TG-DONE $n rc=vanished" >>"$OUT/console/guest-$n.log"
			continue
		fi
		left="$left $n"
	done
	if [ -n "$victim" ] && [ -z "$destroyed" ]; then
		begun=$(sed -n "s/^TG-SUITE-BEGIN $victim [^ ]* \([0-9]*\).*/\1/p" \
			"$OUT/console/guest-$victim.log" 2>/dev/null | head -n 1)
		if [ -n "$begun" ] && [ $(($(now) - begun)) -ge "$after" ] &&
			{ grep -q "^TG-DONE $victim " "$OUT/console/guest-$victim.log" ||
				! xl domid "$victim" >/dev/null 2>&1; }; then
			say "DESTROY-TOO-LATE $victim ended before it could be destroyed"
			destroyed=$victim
		elif [ -n "$begun" ] && [ $(($(now) - begun)) -ge "$after" ]; then
			counters before-destroy
			domid=$(xl domid "$victim")
			t0=$(now)
			xl destroy "$victim" >>"$OUT/dom0.log" 2>&1
			rc=$?
			say "xl destroy $victim (domid $domid) returned $rc after $(($(now) - t0))s"
			if xl domid "$victim" >/dev/null 2>&1; then
				say "DESTROY-FAILED $victim (domid $domid) still exists"
			else
				say "DESTROYED $victim (domid $domid) is no longer listed"
			fi
			destroyed=$victim
			echo "TG-DONE $victim rc=destroyed" >>"$OUT/console/guest-$victim.log"
			sleep 2
			counters after-destroy
		fi
	fi
	if [ -n "$dom0_pid" ] && kill -0 "$dom0_pid" 2>/dev/null; then
		left="$left dom0"
	fi
	[ -z "$left" ] && break
	if [ $(($(now) - t_start)) -ge "$TIMEOUT" ]; then
		say "TIMEOUT after ${TIMEOUT}s, still running:$left"
		break
	fi
	sleep 10
done
sleep 5
counters end
say "xl list: $(xl list | tail -n +2 | awk '{ printf "%s(%s) ", $1, $2 }')"
# What explains each failure: every failed case's own lines (at most
# the last 80 of each), then xtest's closing summary. The full logs stay
# in dom0's /tmp/out.
for f in "$OUT"/dom0-xtest.log "$OUT"/console/guest-*.log; do
	n=$(basename "$f" .log)
	n=${n#guest-}
	n=${n%-xtest}
	awk -v n="$n" '
		{ sub(/\r$/, "") }
		/^\* [a-z]+_[0-9]+ / { nb = 0; incase = 1 }
		incase { buf[nb % 80] = $0; nb++ }
		/^  [a-z]+_[0-9]+ FAILED$/ {
			print "[" n "] TG-FAILED-CASE-BEGIN " $1 > "/dev/console"
			for (i = (nb > 80 ? nb - 80 : 0); i < nb; i++)
				print "[" n "] | " buf[i % 80] > "/dev/console"
			print "[" n "] TG-FAILED-CASE-END " $1 > "/dev/console"
			incase = 0
		}
		/^  [a-z]+_[0-9]+ OK$/ { incase = 0 }' "$f"
done
say "all done"
sleep 2
poweroff -f
