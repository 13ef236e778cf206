#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# no_protocol_names.sh - prove that src/core names no protocol: the core
# serves OP-TEE's SMC ABI (src/optee) and FF-A (src/ffa) through struct
# tg_proto (src/core/proto.h) and never refers to either by name.
#
# usage: tests/core/no_protocol_names.sh [ROOT]
# Fails, listing the lines, if a .c or .h of ROOT/src/core mentions
# OP-TEE, optee, FF-A, ffa, SPMC, a tgf_ function or an SMC function id
# of either protocol (OPTEE_SMC_*, FFA_*).
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
core="$root/src/core"
if [[ ! -d "$core" ]]; then
	echo "no_protocol_names: $core is not a directory" >&2
	exit 2
fi
mapfile -t files < <(find "$core" -name '*.[ch]' | LC_ALL=C sort)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "no_protocol_names: FAIL: no source in $core" >&2
	exit 1
fi
pattern='op-?tee|ff-?a|spmc|tgf_|\bsmccc\b'
if hits=$(grep -n -i -E "$pattern" "${files[@]}"); then
	echo "no_protocol_names: FAIL: src/core names a protocol:"
	echo "$hits" | sed "s|^$root/||"
	exit 1
fi
echo "no_protocol_names: PASS: ${#files[@]} files of src/core, no protocol named"
