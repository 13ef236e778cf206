# SPDX-License-Identifier: BSD-2-Clause
# An xtest domU: optee_client 4.10's tee-supplicant, then xtest.
echo "TG-READY $TG_name $(uname -r) $(grep MemTotal /proc/meminfo)"
optee_probe_report
start_supplicant /usr/bin/tee-supplicant
run_suites
rc=$?
echo "TG-DONE $TG_name rc=$rc"
sync
poweroff -f
