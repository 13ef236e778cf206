#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# budget.sh - instruction budgets of tg_handle_smc(), measured with callgrind.
#
# usage: tools/budget.sh [--out FILE] [--keep DIR] [--only NAME[,NAME..]] TG_BUDGET
#        tools/budget.sh --profile NAME TG_BUDGET
#        tools/budget.sh --smoke TG_BUDGET
#
# --smoke runs every scenario natively (no valgrind) for a few iterations
# and only checks that each completes: the CTest test budget_smoke, which
# also runs under the sanitizers.
#
# --profile NAME prints, for one scenario, the self cost per iteration of
# every function called inside tg_handle_smc() (same N2 - N1 difference),
# to see where a budget goes. It counts every entry of the iteration
# (e.g. both REGISTER and UNREGISTER in register_4096).
#
# For every scenario that `TG_BUDGET --list` prints, run
#
#   valgrind --tool=callgrind --toggle-collect=tg_handle_smc \
#            TG_BUDGET SCENARIO N
#
# twice, with N = N1 and N = N2 iterations, and read (callgrind_annotate
# --tree=caller) the inclusive cost of the call arc smc_measured ->
# tg_handle_smc in each. (I(N2) - I(N1)) / (N2 - N1) is the exact
# steady-state cost of one measured call: warm-up, set-up, lazy binding and
# other one-off costs are the same in both runs and cancel out.
#
# glibc is told never to use "rep movsb/stosb" (callgrind counts each byte
# of those as one instruction), so that a memcpy/memset the mediator calls
# is counted like the vector loop it is on hardware without ERMS.
#
# Prints a table (call | instructions/call | budget | Xen | result), then
# the mediator's memory table (TG_BUDGET --memory: bytes per idle domain,
# per pinned page, per open session, with their goals), writes both to
# FILE too, and exits 1 if any budget or memory goal is exceeded or a run
# fails, 77 (CTest's skip) if valgrind is not installed.
set -euo pipefail

out=
keep=
only=
profile=
smoke=
while [[ $# -gt 1 ]]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	*) break ;;
	esac
done
if [[ $# -ne 1 || "$1" == -* ]]; then
	echo "usage: $0 [--out FILE] [--keep DIR] [--only NAME,..] TG_BUDGET" >&2
	exit 2
fi
bin=$1

if [[ -n "$smoke" ]]; then
	status=0
	while IFS=$'\t' read -r name _; do
		[[ "$name" == \#* || -z "$name" ]] && continue
		if "$bin" "$name" 3; then
			echo "budget smoke: $name ok"
		else
			echo "budget smoke: $name FAILED"
			status=1
		fi
	done < <("$bin" --list)
	if "$bin" --memory >/dev/null; then
		echo "budget smoke: --memory ok"
	else
		echo "budget smoke: --memory FAILED"
		status=1
	fi
	exit $status
fi

for tool in valgrind callgrind_annotate; do
	if ! command -v "$tool" >/dev/null; then
		echo "budget: $tool not found: skipped" >&2
		exit 77
	fi
done

if [[ -n "$keep" ]]; then
	mkdir -p "$keep"
	work=$keep
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824

# arc_cost FILE -> "instructions calls" of smc_measured -> tg_handle_smc.
arc_cost() {
	callgrind_annotate --inclusive=yes --tree=caller --threshold=100 \
		--auto=no "$1" | awk '
		# Blocks are separated by blank lines: callers ("<"), then the
		# function ("*"). A function may be listed more than once (under
		# different spellings of its file name), so sum every block.
		/^$/ { ir = 0; n = 0; next }
		$0 ~ / < / && $0 ~ /:smc_measured( |$)/ {
			v = $1; gsub(",", "", v); ir += v
			if (match($0, /\([0-9,]+x\)/)) {
				c = substr($0, RSTART + 1, RLENGTH - 3)
				gsub(",", "", c); n += c
			}
			next
		}
		$0 ~ /  \*  / && $0 ~ /:tg_handle_smc( |$)/ {
			tir += ir; tn += n; found = 1
		}
		END { if (found) print tir, tn; else print "none" }'
}

# human NUMBER -> 12,345 or 12,345.6 (no ".0")
human() {
	awk -v x="$1" 'BEGIN {
		s = sprintf("%.1f", x); sub(/\.0$/, "", s)
		n = split(s, p, "."); i = p[1]; o = ""
		while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) }
		printf "%s%s%s", i, o, (n > 1 ? "." p[2] : "") }'
}

# measure NAME N -> "instructions calls"
measure() {
	local name=$1 n=$2 f="$work/callgrind.$1.$2.out"
	if ! valgrind --tool=callgrind --toggle-collect=tg_handle_smc \
		--callgrind-out-file="$f" "$bin" "$name" "$n" \
		>"$work/$name.$n.log" 2>&1; then
		echo "budget: $name with $n iterations failed:" >&2
		grep -v '^==' "$work/$name.$n.log" >&2 || true
		return 1
	fi
	arc_cost "$f"
}

# self_costs FILE -> "function instructions" lines, self cost.
self_costs() {
	callgrind_annotate --inclusive=no --threshold=100 --auto=no "$1" |
		awk '/^-+$/ { sep++; next }
		sep >= 3 && $0 ~ /^ *[0-9,]+ / {
			v = $1; gsub(",", "", v)
			fn = $0; sub(/^ *[0-9,]+ +(\([ 0-9.]+%\) +)?/, "", fn)
			sub(/ \[.*$/, "", fn); sub(/^.*\//, "", fn)
			cost[fn] += v
		}
		END { for (f in cost) print f, cost[f] }'
}

if [[ -n "$profile" ]]; then
	line=$("$bin" --list | awk -F'\t' -v n="$profile" '$1 == n')
	if [[ -z "$line" ]]; then
		echo "budget: no scenario '$profile'" >&2
		exit 2
	fi
	IFS=$'\t' read -r name divisor budget xen n1 n2 title <<<"$line"
	measure "$name" "$n1" >/dev/null
	measure "$name" "$n2" >/dev/null
	echo "Self instructions per iteration of '$title' ($name), inside tg_handle_smc:"
	join -a 2 -e 0 -o 0,1.2,2.2 \
		<(self_costs "$work/callgrind.$name.$n1.out" | sort) \
		<(self_costs "$work/callgrind.$name.$n2.out" | sort) |
		awk -v n1="$n1" -v n2="$n2" '{ d = ($3 - $2) / (n2 - n1); t += d
			if (d > 0) printf "%12.1f  %s\n", d, $1 }
			END { printf "%12.1f  TOTAL\n", t }' | sort -rn
	exit 0
fi

build_type=$("$bin" --list | sed -n 's/^# build type: //p')
rows=()
failed=0
fmt="| %-46s | %20s | %8s | %-19s | %-6s |\n"
header=$(printf "$fmt" call instructions/call budget Xen result)
rule=$(printf "$fmt" "" "" "" "" "" | tr ' ' '-')

while IFS=$'\t' read -r name divisor budget xen n1 n2 title; do
	[[ "$name" == \#* || -z "$name" ]] && continue
	if [[ -n "$only" && ",$only," != *",$name,"* ]]; then
		continue
	fi
	if ! r1=$(measure "$name" "$n1") || ! r2=$(measure "$name" "$n2") ||
		[[ "$r1" == none || "$r2" == none ]]; then
		rows+=("$(printf "$fmt" "$title" "error" \
			"${budget/#0/-}" "$xen" FAIL)")
		failed=1
		continue
	fi
	read -r i1 c1 <<<"$r1"
	read -r i2 c2 <<<"$r2"
	# Entries into tg_handle_smc per iteration, as a sanity check.
	per_iter_calls=$(( (c2 - c1) / (n2 - n1) ))
	cost=$(awk -v a="$i1" -v b="$i2" -v n1="$n1" -v n2="$n2" \
		'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
	unit=$(awk -v c="$cost" -v d="$divisor" 'BEGIN { printf "%.1f", c / d }')
	if [[ "$divisor" -gt 1 ]]; then
		shown="$(human "$unit") ($(human "$cost")/call)"
	else
		shown=$(human "$cost")
	fi
	if [[ "$budget" -eq 0 ]]; then
		result=report
		budget=-
	elif awk -v u="$unit" -v b="$budget" 'BEGIN { exit !(u <= b) }'; then
		result=PASS
	else
		result=FAIL
		failed=1
	fi
	if [[ $per_iter_calls -lt 1 ]]; then
		result=FAIL
		failed=1
	fi
	rows+=("$(printf "$fmt" "$title" "$shown" "$budget" "$xen" "$result")")
done < <("$bin" --list)

memory_status=0
memory_table=$("$bin" --memory | grep -v '^# build type') || memory_status=$?
if [[ $memory_status -ne 0 ]]; then
	failed=1
fi

{
	echo "Instructions per call of tg_handle_smc() (callgrind, inclusive,"
	echo "steady state, fake port; build type ${build_type:-unknown})."
	echo
	echo "$header"
	echo "$rule"
	printf '%s\n' "${rows[@]}"
	if [[ -z "$only" ]]; then
		echo
		echo "$memory_table"
	fi
} | tee ${out:+"$out"}

if [[ $failed -ne 0 ]]; then
	echo "budget: FAILED" >&2
	exit 1
fi
