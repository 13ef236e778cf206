# SPDX-License-Identifier: BSD-2-Clause
# The Debian-client domU: Debian 12's own tee-supplicant and libteec1
# (optee-client 3.19), and teec-check linked against that libteec.so.1.
echo "TG-READY $TG_name $(uname -r) $(grep MemTotal /proc/meminfo)"
optee_probe_report
mkdir -p /var/lib/optee-client/data/tee
start_supplicant /usr/sbin/tee-supplicant
echo "TG-SUITE-BEGIN $TG_name teec-check $(now)"
t0=$(now)
/usr/bin/teec-check
rc=$?
echo "TG-SUITE-END $TG_name teec-check rc=$rc secs=$(($(now) - t0))"
echo "TG-DONE $TG_name rc=$rc"
sync
poweroff -f
