# SPDX-License-Identifier: BSD-2-Clause
#
# dom0: starts Xen's tools and runs the job that tools/xen/run-xen put on
# dom0's kernel command line (tg.scenario, tg.domus, tg.suites, ...).
# Everything goes back to the host over the console, which Xen sends to
# QEMU's first serial port: dom0's own "TG ..." lines, and each guest's
# progress forwarded as "[NAME] line" (the case lines and xtest's summary,
# and every TG-... line of the project's clients and hostile image; the
# full logs stay in dom0's /tmp/out and are printed at the end).
# Counters: teegate's console key 'E' (xl debug-keys E) between
# TG-COUNTERS-BEGIN/END markers, Xen's free memory as TG-MEM, the
# hypervisor's list of domains (dying ones too) as TG-XL. Every
# 'xl debug-keys' goes through counters(), one at a time, so the N-th
# TG-COUNTERS-BEGIN is the N-th snapshot of the per-call counting plugin
# (its snap on Xen's handle_keypress).
#
# Scenarios (tg.scenario):
#   xtest    xtest in dom0 and/or N domUs, one domU destroyed if asked
#   bigbuf   tg-xen-client bigbuf in a domU (tg.bigbuf: its arguments)
#   hostile  victims in dom0 and a domU, the hostile image against each
#   fair     fair-time alone, then next to fair-hog; the hog destroyed
#            during fair-time's second window
#   cost     the hostile image's cost mode (tg.reps calls of each kind)
OUT=/tmp/out
mkdir -p "$OUT/console"
SCENARIO=${TG_scenario:-xtest}
DOMUS=${TG_domus:-0}
SUITES=${TG_suites:-regression}
DOM0_SUITES=$(echo "${TG_dom0suites:-}" | tr -d ' ')
DOM0_WITH_DOMUS=${TG_dom0with:-0}
DEB_DOMU=${TG_deb:-0}
DESTROY=${TG_destroy:-}
DOMU_MEM=${TG_domumem:-512}
XTEST_ARGS=${TG_args:-}
TIMEOUT=${TG_timeout:-7200}
GAP=${TG_gap:-0}
[ "$DOM0_SUITES" = none ] && DOM0_SUITES=
[ "$DESTROY" = none ] && DESTROY=

say() { echo "TG $*" >/dev/console; echo "$(now) $*" >>"$OUT/dom0.log"; }
# counters LABEL: teegate's counters (key E), Xen's free memory and its
# list of domains; one at a time (a directory is the lock: busybox has
# no flock).
counters() {
	while ! mkdir /tmp/counters.lock 2>/dev/null; do sleep 1; done
	echo "TG-COUNTERS-BEGIN $1 $(now)" >/dev/console
	xl debug-keys E
	sleep 2
	echo "TG-MEM $1 $(xl info | grep -E '^free_memory' | tr -s ' ')" >/dev/console
	echo "TG-XL $1 $(xl list | tail -n +2 | awk '{ printf "%s(%s,%s,%s) ", $1, $2, $3, $5 }')" >/dev/console
	echo "TG-COUNTERS-END $1" >/dev/console
	rmdir /tmp/counters.lock
}
# forward NAME FILE: the lines of FILE that show progress, as "[NAME] ...".
forward() {
	tail -n +1 -f "$2" 2>/dev/null | awk -v n="$1" '
		{ sub(/\r$/, "") }
		/^TG-VICTIM-PROGRESS/ { next }
		/^TG-/ || /^\* / || /^  [a-z0-9_.]+ (OK|FAILED)$/ || /FAILED first error/ ||
		/^Result of testsuite/ || /^[a-z0-9_]+ (OK|FAILED)/ ||
		/subtests? of which/ || /test cases? of which/ || /test cases? (were )?skipped/ ||
		/^teec-check:/ || /optee|tee-supplicant|Kernel panic|Oops|BUG|Call trace/ {
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
say "xen tools up: Xen $(xl info | sed -n 's/^xen_version *: //p'), job: scenario=$SCENARIO domus=$DOMUS suites=$SUITES dom0=${DOM0_SUITES:-none} deb=$DEB_DOMU destroy=${DESTROY:-none} args=${XTEST_ARGS:-all} gap=$GAP"
optee_probe_report | sed 's/^/[dom0] /' >/dev/console
if [ -e /dev/tee0 ] && [ "$SCENARIO" = xtest ]; then
	start_supplicant /usr/bin/tee-supplicant | sed 's/^/[dom0] /' >/dev/console
fi
counters start

# ---- creating guests ------------------------------------------------------------------
# domu_create NAME RAMDISK ROLE MEMORY [EXTRA]: a Linux domU of ours.
domu_create() {
	cat >"/tmp/$1.cfg" <<CFG
name = "$1"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/$2"
memory = $4
vcpus = 1
tee = "optee"
extra = "console=hvc0 rdinit=/init tg.role=$3 tg.name=$1 tg.suites=$SUITES tg.args=$XTEST_ARGS tg.gap=$GAP ${5:-}"
CFG
	guest_start "$1"
}
# hostile_create NAME EXTRA: the project's hostile image (src/guest/image),
# a bare kernel with two vCPUs (the TOCTOU attacks need a second one).
hostile_create() {
	cat >"/tmp/$1.cfg" <<CFG
name = "$1"
kernel = "/boot/tg-hostile.Image"
memory = 64
vcpus = 2
tee = "optee"
extra = "tg.name=$1 $2"
CFG
	guest_start "$1"
}
guest_start() {
	: >"$OUT/console/guest-$1.log"
	forward "$1" "$OUT/console/guest-$1.log" &
	if xl create "/tmp/$1.cfg" >>"$OUT/dom0.log" 2>&1; then
		say "created $1 (domid $(xl domid "$1"))"
	else
		say "FAILED to create $1: $(tail -n 2 "$OUT/dom0.log" | tr '\n' ' ')"
		echo "TG-DONE $1 rc=create-failed" >>"$OUT/console/guest-$1.log"
	fi
}
# guest_line NAME PATTERN [SECONDS]: wait for a line of NAME's console
# that matches PATTERN (grep -E); prints it; fails after SECONDS (300).
guest_line() {
	t_end=$(($(now) + ${3:-300}))
	while [ "$(now)" -lt "$t_end" ]; do
		l=$(grep -E -m 1 "$2" "$OUT/console/guest-$1.log" 2>/dev/null)
		[ -n "$l" ] && { echo "$l"; return 0; }
		grep -q "^TG-DONE $1 " "$OUT/console/guest-$1.log" 2>/dev/null && return 1
		sleep 2
	done
	return 1
}
is_done() { grep -q "^TG-DONE $1 " "$OUT/console/guest-$1.log" 2>/dev/null; }

# With a gap (tg.gap, per-call counting): a snapshot at every xtest suite
# boundary of every domU; the domU waits GAP seconds after each boundary
# line, so the snapshot falls where it makes no call.
suite_snaps() {
	[ "$GAP" -gt 0 ] || return 0
	for n in $1; do
		f=$OUT/console/guest-$n.log
		c=$(grep -c '^TG-SUITE-\(BEGIN\|END\) ' "$f" 2>/dev/null)
		eval "s=\${snapped_$n:-0}"
		while [ "$s" -lt "${c:-0}" ]; do
			s=$((s + 1))
			lbl=$(grep '^TG-SUITE-\(BEGIN\|END\) ' "$f" | sed -n "${s}p" |
				awk '{ e = tolower(substr($1, 10)); print $2 "-" $3 "-" e }')
			counters "$lbl"
		done
		eval "snapped_$n=$s"
	done
}

# destroy_now NAME: xl destroy, with the counters before and after.
destroy_now() {
	counters before-destroy
	domid=$(xl domid "$1")
	t0=$(now)
	xl destroy "$1" >>"$OUT/dom0.log" 2>&1
	rc=$?
	say "xl destroy $1 (domid $domid) returned $rc after $(($(now) - t0))s"
	if xl domid "$1" >/dev/null 2>&1; then
		say "DESTROY-FAILED $1 (domid $domid) still exists"
	else
		say "DESTROYED $1 (domid $domid) is no longer listed"
	fi
	echo "TG-DONE $1 rc=destroyed" >>"$OUT/console/guest-$1.log"
	sleep 2
	counters after-destroy
}

# wait_guests NAMES: until each has said TG-DONE or is gone; destroys
# --destroy's victim in the middle of its xtest run; a dom0 run in the
# background (dom0_pid) counts too.
wait_guests() {
	names=$1
	victim=${DESTROY%%:*}
	after=${DESTROY#*:}
	t_start=$(now)
	while :; do
		left=
		suite_snaps "$names"
		for n in $names; do
			is_done "$n" && continue
			[ "$n" = "$destroyed" ] && continue
			if ! xl domid "$n" >/dev/null 2>&1; then
				sleep 3
				is_done "$n" && continue
				say "$n is gone without TG-DONE; the end of its console:"
				tail -n 40 "$OUT/console/guest-$n.log" | sed "s/^/[$n] | /" >/dev/console
				say "its xl log: $(tail -n 5 /var/log/xen/xl-$n.log 2>/dev/null | tr '\n' ' ')"
				echo "TG-DONE $n rc=vanished" >>"$OUT/console/guest-$n.log"
				continue
			fi
			left="$left $n"
		done
		if [ -n "$victim" ] && [ -z "$destroyed" ]; then
			begun=$(sed -n "s/^TG-SUITE-BEGIN $victim [^ ]* \([0-9]*\).*/\1/p" \
				"$OUT/console/guest-$victim.log" 2>/dev/null | head -n 1)
			if [ -n "$begun" ] && [ $(($(now) - begun)) -ge "$after" ] &&
				{ is_done "$victim" || ! xl domid "$victim" >/dev/null 2>&1; }; then
				say "DESTROY-TOO-LATE $victim ended before it could be destroyed"
				destroyed=$victim
			elif [ -n "$begun" ] && [ $(($(now) - begun)) -ge "$after" ]; then
				destroy_now "$victim"
				destroyed=$victim
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
		if [ "$GAP" -gt 0 ]; then sleep 2; else sleep 10; fi
	done
}

# ---- the scenarios ----------------------------------------------------------------------
dom0_pid=
destroyed=
all_names=

scenario_xtest() {
	: >"$OUT/dom0-xtest.log"
	forward dom0 "$OUT/dom0-xtest.log" &
	if [ -n "$DOM0_SUITES" ] && [ "$DOM0_WITH_DOMUS" != 1 ]; then
		say "dom0 xtest: $DOM0_SUITES"
		dom0_run
		sleep 2
		counters after-dom0
	fi
	i=1
	while [ "$i" -le "$DOMUS" ]; do
		domu_create "domU$i" domU-xtest.cpio.gz domU "$DOMU_MEM"
		all_names="$all_names domU$i"
		i=$((i + 1))
	done
	if [ "$DEB_DOMU" = 1 ]; then
		domu_create domUdeb domU-deb.cpio.gz domU-deb 256
		all_names="$all_names domUdeb"
	fi
	if [ -n "$DOM0_SUITES" ] && [ "$DOM0_WITH_DOMUS" = 1 ]; then
		say "dom0 xtest: $DOM0_SUITES (with the domUs)"
		dom0_run &
		dom0_pid=$!
	fi
	wait_guests "$all_names"
}
dom0_suite_hook() {
	[ "$GAP" -gt 0 ] && counters "dom0-$2-$1"
	return 0
}
dom0_run() {
	TG_suites=$DOM0_SUITES TG_args=$XTEST_ARGS TG_name=dom0 \
		TG_suite_hook=dom0_suite_hook run_suites >>"$OUT/dom0-xtest.log"
	echo "TG-DONE dom0 rc=$?" >>"$OUT/dom0-xtest.log"
}

# bigbuf: the buffers in one domU (tg.bigbuf: the arguments, + for
# spaces), with tee-supplicant for --target ta's user TA.
scenario_bigbuf() {
	domu_create domU1 domU-xtest.cpio.gz client "$DOMU_MEM" "tg.cmd=bigbuf+${TG_bigbuf:-} tg.linger=20 tg.supplicant=1"
	all_names=domU1
	# The mediator's counters for domU1 while it still exists (its
	# refusals: a buffer the TEE refused is not one of them).
	guest_line domU1 '^TG-LINGER ' 3600 >/dev/null && counters bigbuf-end
	wait_guests domU1
}

# hostile: a victim in dom0 (dom0 is mapped 1:1, so its buffer's address
# is a machine address) and one in a domU (an IPA only that domU can
# name); the hostile image attacks each in turn, told the victim's
# address and client id.
scenario_hostile() {
	vs=${TG_victimsecs:-600}
	: >"$OUT/console/guest-dom0victim.log"
	forward dom0victim "$OUT/console/guest-dom0victim.log" &
	tg-xen-client victim --seconds "$vs" >>"$OUT/console/guest-dom0victim.log" 2>&1 &
	vpid=$!
	domu_create victim2 domU-xtest.cpio.gz client 256 "tg.cmd=victim+--seconds+$vs"
	all_names="victim2"
	pa=$(guest_line dom0victim '^TG-VICTIM-BUFFER ' 120 | sed -n 's/.* pa=\(0x[0-9a-f]*\).*/\1/p')
	pa2=$(guest_line victim2 '^TG-VICTIM-BUFFER ' 300 | sed -n 's/.* pa=\(0x[0-9a-f]*\).*/\1/p')
	say "victims: dom0 (client 1) buffer at $pa; victim2 (client $(($(xl domid victim2) + 1))) at IPA $pa2"
	if [ -n "$pa" ]; then
		hostile_create hostile1 "tg.victim=$pa tg.victim_client=1"
		all_names="$all_names hostile1"
		wait_guests hostile1
	else
		say "FAILED: dom0's victim printed no machine address"
	fi
	if [ -n "$pa2" ] && xl domid victim2 >/dev/null 2>&1; then
		hostile_create hostile2 "tg.victim=$pa2 tg.victim_client=$(($(xl domid victim2) + 1))"
		all_names="$all_names hostile2"
		wait_guests hostile2
	else
		say "FAILED: victim2 printed no address or is gone"
	fi
	is_done victim2 && say "VICTIM-ENDED-EARLY victim2 ended before the attacks did: give it more --victim-seconds"
	kill -0 "$vpid" 2>/dev/null || say "VICTIM-ENDED-EARLY dom0victim ended before the attacks did: give it more --victim-seconds"
	kill -TERM "$vpid" 2>/dev/null
	wait "$vpid"
	echo "TG-DONE dom0victim rc=$?" >>"$OUT/console/guest-dom0victim.log"
	# victim2 runs for its --seconds; wait for its summary.
	wait_guests victim2
}

# fair: B (fair-time) alone; then A (fair-hog, N threads holding secure
# threads) and, next to it, B again for two windows; A is destroyed as
# B's second window begins (what stays pinned, and whether OP-TEE still
# serves B).
scenario_fair() {
	s=${TG_fairsecs:-120}
	th=${TG_hogthreads:-4}
	kib=${TG_hogkib:-256}
	domu_create timeAlone domU-xtest.cpio.gz client 256 "tg.cmd=fair-time+--seconds+$s"
	all_names=timeAlone
	wait_guests timeAlone
	domu_create hog domU-xtest.cpio.gz client 256 "tg.cmd=fair-hog+--threads+$th+--kib+$kib+--seconds+$((4 * s + 600))"
	all_names="$all_names hog"
	guest_line hog '^TG-CMD-BEGIN ' 300 >/dev/null
	sleep 15
	domu_create timeNext domU-xtest.cpio.gz client 256 "tg.cmd=fair-time+--seconds+$s;fair-time+--seconds+$s"
	all_names="$all_names timeNext"
	if guest_line timeNext '^TG-FAIR-TIME ' $((3 * s + 300)) >/dev/null; then
		destroy_now hog
	else
		say "FAILED: timeNext's first window did not end"
	fi
	destroyed=hog
	wait_guests timeNext
}

# cost: the hostile image's cost mode, a snapshot before and after.
scenario_cost() {
	hostile_create cost "tg.mode=cost tg.reps=${TG_reps:-20}"
	all_names=cost
	wait_guests cost
}

case $SCENARIO in
xtest | bigbuf | hostile | fair | cost) "scenario_$SCENARIO" ;;
*) say "FATAL: unknown scenario '$SCENARIO'" ;;
esac

sleep 5
counters end
say "xl list: $(xl list | tail -n +2 | awk '{ printf "%s(%s) ", $1, $2 }')"
# What explains each failure: every failed case's own lines (at most
# the last 80 of each), then xtest's closing summary. The full logs stay
# in dom0's /tmp/out.
for f in "$OUT"/dom0-xtest.log "$OUT"/console/guest-*.log; do
	[ -f "$f" ] || continue
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
