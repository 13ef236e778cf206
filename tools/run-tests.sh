#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# run-tests.sh - everything `make test` runs. Exits non-zero on any failure.
#
# usage: tools/run-tests.sh [STAGE...]
#
# Stages (all by default, in this order):
#   build     normal build (build/, RelWithDebInfo) + every CTest test
#   coverage  build-coverage/ with -DTEEGATE_COVERAGE=ON, the "core" tests,
#             gcovr line coverage of src/core + src/optee (must be >= 90%)
#   budget    print the callgrind budget table the build stage produced
#   asan      build-asan/ with -DTEEGATE_SANITIZE=ON, every test but "budget"
#   tsan      build-tsan/ with -DTEEGATE_TSAN=ON, the "concurrency" tests
#   stress    teegate stress --guests 8 --seconds STRESS_SECONDS (60) on the
#             build stage's binary: random workloads, kills and balloons
#   fuzz      fuzz/run.sh: each libFuzzer harness for FUZZ_SECONDS (60),
#             clang with ASan+UBSan (what `make fuzz-smoke` runs)
#   xen       tools/xen/build-xen.sh: Debian 12's xen source package (apt,
#             bookworm main), ports/xen/apply.sh, the arm64 hypervisor
#             built with teegate as its OP-TEE mediator (build-xen/); a
#             compile or link error, or apt failing to fetch the source,
#             fails it
#
# Each stage prints one header and one result line; full output goes to
# build-logs/STAGE.log and its tail is shown when the stage fails. The last
# line is "N passed, N failed": every CTest test of every stage counts as
# one check, and so does each gate that is not a test (a build, the
# coverage threshold, the presence of the budget table).
#
# Environment: JOBS (default 2), COVERAGE_MIN (default 90), FUZZ_SECONDS
# (default 60), STRESS_SECONDS (default 60).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=${JOBS:-2}
coverage_min=${COVERAGE_MIN:-90}
logs=$root/build-logs
mkdir -p "$logs"

all_stages=(build coverage budget asan tsan stress fuzz xen)
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
	exit 0
fi
if [[ $# -gt 0 ]]; then
	stages=("$@")
	for s in "${stages[@]}"; do
		if [[ " ${all_stages[*]} " != *" $s "* ]]; then
			echo "usage: $0 [${all_stages[*]}]" >&2
			exit 2
		fi
	done
else
	stages=("${all_stages[@]}")
fi

passed=0
failed=0
skipped=0
ct_failed=0
summary=()
start_all=$SECONDS

# ---- helpers ----------------------------------------------------------------

stage_begin() {
	stage=$1
	stage_log=$logs/$1.log
	stage_start=$SECONDS
	: >"$stage_log"
	rm -f "$logs/$1.ctest.log"
	ct_failed=0
	printf '==> %-9s %s\n' "$1" "$2"
}

stage_end() {
	local result=$1 detail=$2
	local took=$((SECONDS - stage_start))
	printf '    %-9s %s (%dm%02ds)%s\n' "$stage" "$result" $((took / 60)) \
		$((took % 60)) "${detail:+: $detail}"
	summary+=("$(printf '%-9s %-5s %4ds  %s' "$stage" "$result" "$took" "$detail")")
	if [[ $result != FAIL ]]; then
		return
	fi
	if [[ $ct_failed -eq 1 && -s $logs/$stage.ctest.log ]]; then
		# Which tests failed, then the end of their own output.
		echo "    --- failed tests ($logs/$stage.ctest.log) ---"
		sed -n '/The following tests FAILED:/,$p' "$logs/$stage.ctest.log" |
			grep -v '^Errors while running CTest' | sed 's/^/    | /' || true
		echo "    --- end of their output ---"
		sed '/^[0-9]*% tests passed/,$d' "$logs/$stage.ctest.log" |
			grep -v -E '^ +Start +[0-9]+:|Test +#[0-9]+: .* Passed|^$' |
			tail -n 50 | sed 's/^/    | /' || true
	elif [[ -s $stage_log ]]; then
		echo "    --- last lines of $stage_log ---"
		tail -n 40 "$stage_log" | sed 's/^/    | /' || true
	fi
}

# run CMD... : append its output to the stage log; returns its status.
run() {
	echo "+ $*" >>"$stage_log"
	"$@" >>"$stage_log" 2>&1
}

# configure_build DIR CMAKE_ARGS... : one check (pass or fail). A failed
# build keeps going (make -k) so that the tests of every target that did
# build can still run; build_ok tells the stage whether it is worth it.
configure_build() {
	local dir=$1
	shift
	build_ok=0
	if ! run cmake -S "$root" -B "$dir" "$@"; then
		failed=$((failed + 1))
		return 1
	fi
	build_ok=1
	if run cmake --build "$dir" -j "$jobs" -- -k; then
		passed=$((passed + 1))
		return 0
	fi
	failed=$((failed + 1))
	return 1
}

# build_failure_detail: the first compiler or linker errors of the stage.
build_failure_detail() {
	grep -m 3 -E 'error:|Error [0-9]|undefined reference' "$stage_log" |
		sed 's/^/    ! /' || true
}

# run_ctest DIR CTEST_ARGS... : counts every test; sets ct_detail.
run_ctest() {
	local dir=$1 out=$logs/$stage.ctest.log status total nfail nskip
	shift
	set +e
	(cd "$dir" && ctest --output-on-failure --no-tests=error -j "$jobs" "$@") \
		>"$out" 2>&1
	status=$?
	set -e
	cat "$out" >>"$stage_log"
	total=$(sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p' "$out" | tail -n 1)
	nfail=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$out" | tail -n 1)
	nskip=$(grep -c '(Skipped)' "$out" || true)
	if [[ -z "$total" ]]; then
		# No summary: no tests matched, or ctest itself failed.
		failed=$((failed + 1))
		ct_detail="no tests ran ($*)"
		ct_failed=1
		return 1
	fi
	passed=$((passed + total - nfail - nskip))
	failed=$((failed + nfail))
	skipped=$((skipped + nskip))
	ct_detail="$((total - nfail - nskip))/$total tests passed"
	[[ $nskip -eq 0 ]] || ct_detail+=", $nskip skipped"
	if [[ $status -eq 0 && $nfail -eq 0 ]]; then
		return 0
	fi
	ct_failed=1
	return 1
}

# ---- stages -------------------------------------------------------------------

stage_build() {
	stage_begin build "normal build (build/, RelWithDebInfo) + all tests"
	rm -f build/bench/budget.txt build/bench/budget_ffa.txt
	build_tests build -DCMAKE_BUILD_TYPE=RelWithDebInfo
}

# build_tests DIR CMAKE_ARGS... [-- CTEST_ARGS...]: build, then run the
# tests even after a partial build failure; one result line.
build_tests() {
	local dir=$1 cm=() ct=() built=1
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do cm+=("$1"); shift; done
	[[ $# -gt 0 ]] && shift
	ct=("$@")
	if ! configure_build "$dir" "${cm[@]}"; then
		built=0
		build_failure_detail
		if [[ $build_ok -eq 0 ]]; then
			stage_end FAIL "cmake configure failed"
			return
		fi
	fi
	if run_ctest "$dir" "${ct[@]}" && [[ $built -eq 1 ]]; then
		stage_end PASS "$ct_detail"
	elif [[ $built -eq 0 ]]; then
		stage_end FAIL "build failed; $ct_detail"
	else
		stage_end FAIL "$ct_detail"
	fi
}

stage_coverage() {
	local dir=build-coverage summary_out pct
	stage_begin coverage "coverage of src/core + src/optee by the core tests (>= ${coverage_min}%)"
	if ! configure_build $dir -DCMAKE_BUILD_TYPE=Debug -DTEEGATE_COVERAGE=ON; then
		build_failure_detail
		stage_end FAIL "build failed"
		return
	fi
	find $dir -name '*.gcda' -delete
	if ! run_ctest $dir -L '^core$'; then
		stage_end FAIL "$ct_detail"
		return
	fi
	summary_out=$(mktemp)
	if ! gcovr --root "$root" --filter 'src/core/' --filter 'src/optee/' \
		--exclude '.*_test\.c$' --print-summary \
		--txt "$logs/coverage.txt" $dir >"$summary_out" 2>>"$stage_log"; then
		cat "$summary_out" >>"$stage_log"
		rm -f "$summary_out"
		failed=$((failed + 1))
		stage_end FAIL "gcovr failed"
		return
	fi
	cat "$summary_out" >>"$stage_log"
	pct=$(sed -n 's/^lines: \([0-9.]*\)%.*/\1/p' "$summary_out")
	rm -f "$summary_out"
	if [[ -z "$pct" ]]; then
		failed=$((failed + 1))
		stage_end FAIL "no line coverage figure from gcovr"
	elif awk -v p="$pct" -v m="$coverage_min" 'BEGIN { exit !(p >= m) }'; then
		passed=$((passed + 1))
		stage_end PASS "line coverage ${pct}% (report: build-logs/coverage.txt); $ct_detail"
	else
		failed=$((failed + 1))
		cat "$logs/coverage.txt" >>"$stage_log"
		stage_end FAIL "line coverage ${pct}% < ${coverage_min}% (report: build-logs/coverage.txt)"
	fi
}

stage_budget() {
	local table tables=(build/bench/budget.txt build/bench/budget_ffa.txt)
	stage_begin budget "callgrind instruction budgets (from the build stage)"
	for table in "${tables[@]}"; do
		if [[ ! -s $table ]]; then
			echo "no $table: the budget test did not run" >>"$stage_log"
			failed=$((failed + 1))
			stage_end FAIL "no budget table $table (are tg_budget and tg_budget_ffa built and the budget tests run?)"
			return
		fi
	done
	for table in "${tables[@]}"; do
		sed 's/^/    /' "$table"
	done
	if grep -q '| FAIL ' "${tables[@]}"; then
		stage_end FAIL "a budget is exceeded (counted in the build stage)"
	else
		stage_end PASS "tables printed (OP-TEE, FF-A)"
	fi
}

stage_asan() {
	stage_begin asan "ASan+UBSan build (build-asan/), all tests but budget"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		build_tests build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTEEGATE_SANITIZE=ON -- -LE '^budget$'
}

stage_tsan() {
	stage_begin tsan "TSan build (build-tsan/), concurrency tests"
	TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
		build_tests build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTEEGATE_TSAN=ON -- -L '^concurrency$'
}

stage_stress() {
	local secs=${STRESS_SECONDS:-60} bin=build/src/cli/teegate
	stage_begin stress "teegate stress --guests 8 --seconds ${secs} (inline)"
	if [[ ! -x $bin ]]; then
		failed=$((failed + 1))
		stage_end FAIL "no $bin: the build stage did not build it"
		return
	fi
	if run "$bin" stress --guests 8 --seconds "$secs"; then
		passed=$((passed + 1))
		stage_end PASS "$(grep -m 1 'TEE operations' "$stage_log" |
			sed 's/^ *//; s/  */ /g'), 0 violations, 0 leaks"
	else
		failed=$((failed + 1))
		stage_end FAIL "see build-logs/stress.log"
	fi
}

stage_fuzz() {
	local secs=${FUZZ_SECONDS:-60} execs runs
	stage_begin fuzz "libFuzzer harnesses, ${secs}s each (build-fuzz/, clang, ASan+UBSan)"
	if run fuzz/run.sh "$secs"; then
		# one log per harness that ran (smc, parsers, ffa)
		runs=$({ grep -l 'stat::number_of_executed_units' \
			build-fuzz/fuzz-*.log || true; } | wc -l)
		passed=$((passed + runs))
		execs=$({ grep -h 'stat::number_of_executed_units' \
			build-fuzz/fuzz-*.log || true; } |
			awk '{ s += $2 } END { print s + 0 }')
		stage_end PASS "$runs harnesses, $execs executions, no finding"
	else
		failed=$((failed + 1))
		stage_end FAIL "a harness failed (build-fuzz/fuzz-*.log, build-fuzz/crash-*)"
	fi
}

stage_xen() {
	stage_begin xen "Xen 4.17 (Debian source package) + ports/xen, arm64 hypervisor (build-xen/)"
	if run tools/xen/build-xen.sh --work "$root/build-xen" --jobs "$jobs"; then
		passed=$((passed + 1))
		stage_end PASS "$(grep -m 1 '^build-xen: source' "$stage_log" |
			sed 's/^build-xen: source \([^ ]*\).*/\1/'): $(grep -m 1 '^build-xen: OK' "$stage_log" |
			sed 's/.*(\(.*\))$/\1/')"
	else
		failed=$((failed + 1))
		stage_end FAIL "$(grep -E '^build-xen: ' "$stage_log" | tail -n 1)"
	fi
}

echo "teegate tests: $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(gcc --version | head -n 1), jobs $jobs, logs in build-logs/"
for s in "${stages[@]}"; do
	"stage_$s"
done

took=$((SECONDS - start_all))
echo
echo "Summary ($((took / 60))m$(printf '%02d' $((took % 60)))s):"
printf '  %s\n' "${summary[@]}"
[[ $skipped -eq 0 ]] || echo "  ($skipped tests skipped)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
