# SPDX-License-Identifier: BSD-2-Clause
#
# dom0: starts Xen's tools, runs the job that tools/xen/run-xen.sh wrote
# into the shared directory (/mnt/run/job.conf), and writes everything
# back there: dom0's xtest log, each domU's console (xenconsoled), Xen's
# log and teegate's counters (console key 'E'), and a final "done" file.
echo "TG-READY dom0 $(uname -r) $(grep MemTotal /proc/meminfo)"
mkdir -p /mnt/run /mnt/images
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 run /mnt/run ||
	{ echo "TG-FATAL dom0 cannot mount the run directory (9p tag 'run')"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro images /mnt/images ||
	{ echo "TG-FATAL dom0 cannot mount the images (9p tag 'images')"; poweroff -f; }
OUT=/mnt/run/out
mkdir -p "$OUT/console"
DOMUS=0 SUITES=regression DOM0_SUITES= DOM0_WITH_DOMUS=0 DEB_DOMU=0 DESTROY=
DOMU_MEM=512 XTEST_ARGS= TIMEOUT=7200
. /mnt/run/job.conf

say() { echo "TG $*"; echo "$(now) $*" >>"$OUT/dom0.log"; }
xenlog_flush() { xl dmesg -c >>"$OUT/xen-dmesg.log" 2>&1; }
# counters LABEL: teegate's console key 'E' and Xen's free memory, into
# $OUT/counters-LABEL.txt (and the Xen log).
counters() {
	xenlog_flush
	xl debug-keys E
	sleep 1
	{
		echo "# $1 at $(now)"
		xl dmesg -c | tee -a "$OUT/xen-dmesg.log" | grep 'teegate:'
		xl info | grep -E '^(total|free)_memory'
		xl list
	} >"$OUT/counters-$1.txt" 2>&1
	say "counters $1: $(grep -m 1 'port pins held' "$OUT/counters-$1.txt" | sed 's/.*teegate: //')"
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
say "xen tools up: $(xl info | grep -E '^xen_(major|minor|extra)' | awk '{ printf "%s", $3 }' | tr -s ' ')"
optee_probe_report | tee -a "$OUT/dom0.log"
[ -e /dev/tee0 ] && start_supplicant /usr/bin/tee-supplicant | tee -a "$OUT/dom0.log"
counters start

# ---- dom0's own xtest -------------------------------------------------------------
dom0_run() {
	TG_suites=$DOM0_SUITES TG_args=$XTEST_ARGS TG_name=dom0 run_suites "$OUT/dom0-xtest.log"
	echo "TG-DONE dom0 rc=$?" >>"$OUT/dom0-xtest.log"
}
if [ -n "$DOM0_SUITES" ] && [ "$DOM0_WITH_DOMUS" != 1 ]; then
	say "dom0 xtest: $DOM0_SUITES"
	dom0_run
	counters after-dom0
fi

# ---- the domUs --------------------------------------------------------------------
domu_create() { # NAME RAMDISK ROLE MEMORY
	cat >"/tmp/$1.cfg" <<CFG
name = "$1"
kernel = "/mnt/images/vmlinuz"
ramdisk = "/mnt/images/$2"
memory = $4
vcpus = 1
tee = "optee"
extra = "console=hvc0 rdinit=/init tg.role=$3 tg.name=$1 tg.suites=$SUITES tg.args=$XTEST_ARGS"
CFG
	if xl create "/tmp/$1.cfg" >>"$OUT/dom0.log" 2>&1; then
		say "created $1 (domid $(xl domid "$1"))"
	else
		say "FAILED to create $1 (see dom0.log)"
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
	xenlog_flush
	left=
	for n in $names; do
		if grep -q "^TG-DONE $n " "$OUT/console/guest-$n.log" 2>/dev/null; then
			continue
		fi
		if [ "$n" = "$destroyed" ]; then
			continue
		fi
		if ! xl domid "$n" >/dev/null 2>&1; then
			say "$n is gone without TG-DONE"
			echo "TG-DONE $n rc=vanished" >>"$OUT/console/guest-$n.log"
			continue
		fi
		left="$left $n"
	done
	if [ -n "$victim" ] && [ -z "$destroyed" ]; then
		begun=$(sed -n "s/^TG-SUITE-BEGIN $victim [^ ]* \([0-9]*\).*/\1/p" \
			"$OUT/console/guest-$victim.log" 2>/dev/null | head -n 1)
		if [ -n "$begun" ] && [ $(($(now) - begun)) -ge "$after" ]; then
			counters before-destroy
			domid=$(xl domid "$victim")
			t0=$(now)
			xl destroy "$victim" >>"$OUT/dom0.log" 2>&1
			say "xl destroy $victim (domid $domid) returned $? after $(($(now) - t0))s"
			if xl domid "$victim" >/dev/null 2>&1; then
				say "DESTROY-FAILED $victim still exists"
			else
				say "DESTROYED $victim: no longer listed"
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
sleep 3
counters end
xenlog_flush
say "all done"
xl list >>"$OUT/dom0.log" 2>&1
echo "done $(now)" >"$OUT/done"
sync
poweroff -f
