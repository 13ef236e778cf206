#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# run.sh - build the libFuzzer harnesses and run each for a while.
#
# usage: fuzz/run.sh [SECONDS] [HARNESS...]
#
# SECONDS defaults to 60 per harness (what `make fuzz-smoke` and CI run);
# HARNESS is smc, parsers and/or ffa (all by default). New inputs go to
# build-fuzz/corpus/HARNESS, the committed seeds in fuzz/corpus/HARNESS are
# only read. A crash leaves crash-* in build-fuzz/ and makes this exit 1.
# See docs/fuzzing.md for long runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(smc parsers ffa)
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
	echo "fuzz: SECONDS must be a positive number, got '$seconds'" >&2
	exit 2
fi
if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found: install Debian's clang (tools/install-deps.sh)" >&2
	exit 2
fi

build=build-fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DTEEGATE_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target \
	"${harnesses[@]/#/fuzz_}" >/dev/null

status=0
for h in "${harnesses[@]}"; do
	corpus=$build/corpus/$h
	mkdir -p "$corpus"
	echo "fuzz: $h for ${seconds}s"
	if ! (cd "$build" && "./fuzz/fuzz_$h" -max_total_time="$seconds" \
		-print_final_stats=1 -artifact_prefix="./crash-$h-" \
		"corpus/$h" "../fuzz/corpus/$h") >"$build/fuzz-$h.log" 2>&1; then
		echo "fuzz: $h FAILED, see $build/fuzz-$h.log:" >&2
		grep -E "ERROR|invariant|SUMMARY|crash-" "$build/fuzz-$h.log" |
			head -20 >&2
		status=1
		continue
	fi
	grep -E "stat::number_of_executed_units|DONE" "$build/fuzz-$h.log" |
		sed "s/^/fuzz: $h: /"
done
exit $status
