# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the guest roles (sourced by /init).

now() { date +%s; }

# optee_probe_report: what Linux's OP-TEE driver said, one line.
optee_probe_report() {
	if [ -e /dev/tee0 ]; then
		echo "TG-OPTEE $TG_name /dev/tee0 $(dmesg | grep -m 1 -o 'optee: revision [^ ]*.*' || echo 'optee: probed')"
	else
		echo "TG-OPTEE-MISSING $TG_name no /dev/tee0: $(dmesg | grep -i optee | tail -n 3 | tr '\n' ' ')"
	fi
}

# start_supplicant BINARY: tee-supplicant in the background, its log in /tmp.
start_supplicant() {
	"$1" >/tmp/tee-supplicant.log 2>&1 &
	TG_SUPPLICANT_PID=$!
	sleep 1
	if kill -0 "$TG_SUPPLICANT_PID" 2>/dev/null; then
		echo "TG-SUPPLICANT $TG_name $1 pid $TG_SUPPLICANT_PID"
	else
		echo "TG-SUPPLICANT-FAILED $TG_name $1: $(cat /tmp/tee-supplicant.log)"
	fi
}

# run_suites: xtest, one suite after the other (TG_suites, comma
# separated), each framed by TG-SUITE-BEGIN/END on stdout; returns
# non-zero if any suite failed. Per-call counting: dom0 calls
# $TG_suite_hook begin|end SUITE around each suite; a domU instead waits
# TG_gap seconds after each of the two lines, so that dom0, which reads
# them from its console, takes its snapshot while the domU makes no call.
run_suites() {
	status=0
	gap=${TG_gap:-0}
	[ -n "${TG_suite_hook:-}" ] && gap=0
	for s in $(echo "$TG_suites" | tr ',' ' '); do
		[ -n "${TG_suite_hook:-}" ] && "$TG_suite_hook" begin "$s"
		t0=$(now)
		echo "TG-SUITE-BEGIN $TG_name $s $t0"
		[ "$gap" -gt 0 ] && sleep "$gap"
		t0=$(now)
		# shellcheck disable=SC2046
		xtest -t "$s" $(echo "$TG_args" | tr ',' ' ') 2>&1
		rc=$?
		echo "TG-SUITE-END $TG_name $s rc=$rc secs=$(($(now) - t0))"
		[ "$gap" -gt 0 ] && sleep "$gap"
		[ -n "${TG_suite_hook:-}" ] && "$TG_suite_hook" end "$s"
		[ $rc -eq 0 ] || status=1
	done
	return $status
}
