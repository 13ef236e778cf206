#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# freestanding-check.sh - prove the mediator core can be dropped into a
# hypervisor: cross-compile every .c of src/core, src/optee and src/ffa
# (and src/protocols.c, their table) for aarch64, freestanding, link them
# into one relocatable object, and require that the only undefined
# symbols are memcpy, memset and memcmp (any subset).
#
# usage: tools/freestanding-check.sh [--root DIR] [--keep DIR]
#   --root DIR   project root holding include/ and src/{core,optee}
#                (default: the directory above this script)
#   --keep DIR   keep the objects there (default: a temporary directory)
#   CROSS_COMPILE  toolchain prefix (default aarch64-linux-gnu-)
#
# Exit: 0 clean, 1 failed, 77 (CTest's skip) when the cross toolchain is
# missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=
while [[ $# -gt 0 ]]; do
	case "$1" in
	--root) root=$(cd "$2" && pwd); shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [--root DIR] [--keep DIR]" >&2; exit 2 ;;
	esac
done

cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
cc=${cross}gcc
ld=${cross}ld
nm=${cross}nm
for tool in "$cc" "$ld" "$nm"; do
	if ! command -v "$tool" >/dev/null; then
		echo "freestanding: $tool not found (Debian: gcc-aarch64-linux-gnu," \
			"binutils-aarch64-linux-gnu): skipped" >&2
		exit 77
	fi
done

# The flags a hypervisor build would use: no libc, no builtins that could
# hide a libc call, no outline atomics (they call into libgcc), no FP/SIMD
# registers (EL2 code must not touch the guest's FP state). The language
# level and warnings are Xen's (xen/Makefile, Config.mk: Xen compiles
# every file, and so the core inside ports/xen, with these); the CMake
# build checks C11 separately.
cflags=(-std=gnu99 -O2 -ffreestanding -nostdlib -fno-builtin -fno-common
	-mno-outline-atomics -mgeneral-regs-only
	-I"$root/include" -I"$root/src" -I"$root/src/core" -I"$root/src/optee"
	-I"$root/src/ffa"
	-Wall -Wextra -Werror -Wstrict-prototypes -Wdeclaration-after-statement
	-Wredundant-decls -Wnested-externs -Wvla)
allowed=(memcpy memset memcmp)

mapfile -t sources < <(cd "$root" && find src/core src/optee src/ffa \
	src/protocols.c -name '*.c' \
	-not -name '*_test.c' -not -path '*/test/*' -not -path '*/tests/*' \
	2>/dev/null | LC_ALL=C sort)
if [[ ${#sources[@]} -eq 0 ]]; then
	echo "freestanding: FAIL: no .c files in $root/src/core or $root/src/optee"
	exit 1
fi

if [[ -n "$keep" ]]; then
	mkdir -p "$keep"
	work=$(cd "$keep" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

echo "freestanding: $cc ${cflags[*]/#-I$root/-I.}"
objs=()
status=0
for src in "${sources[@]}"; do
	obj="$work/$(echo "$src" | tr / _).o"
	if ! (cd "$root" && "$cc" "${cflags[@]}" -c "$src" -o "$obj"); then
		echo "freestanding: FAIL: $src does not compile freestanding"
		status=1
		continue
	fi
	objs+=("$obj")
done
[[ $status -eq 0 ]] || exit 1

"$ld" -r -o "$work/teegate-core.o" "${objs[@]}"
mapfile -t undefined < <("$nm" -u "$work/teegate-core.o" | awk '{ print $NF }' |
	LC_ALL=C sort -u)

bad=()
for sym in "${undefined[@]}"; do
	ok=0
	for a in "${allowed[@]}"; do
		[[ "$sym" == "$a" ]] && ok=1
	done
	[[ $ok -eq 1 ]] || bad+=("$sym")
done

size=$("${cross}size" "$work/teegate-core.o" 2>/dev/null | awk 'NR == 2 { print $1 + $2 + $3 }' || true)
echo "freestanding: ${#sources[@]} files -> one relocatable object${size:+ ($size bytes text+data+bss)}"
echo "freestanding: undefined symbols: ${undefined[*]:-(none)}"
if [[ ${#bad[@]} -ne 0 ]]; then
	echo "freestanding: FAIL: not allowed (only ${allowed[*]}): ${bad[*]}"
	for sym in "${bad[@]}"; do
		for i in "${!objs[@]}"; do
			if "$nm" -u "${objs[$i]}" | awk '{ print $NF }' |
				grep -qx -- "$sym"; then
				echo "  $sym <- ${sources[$i]}"
			fi
		done
	done
	exit 1
fi
echo "freestanding: PASS"
