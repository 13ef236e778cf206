#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# cli_expect.sh RC REGEX [--fw FILE SIZE] [--need-qemu] -- CMD...
#
# Run CMD; pass when it exits with RC and its stderr is exactly one line
# matching the extended REGEX. --fw makes a firmware directory holding
# FILE (SIZE bytes, sparse) and replaces @FW@ in CMD with it. --need-qemu
# skips (77) when qemu-system-aarch64 is not installed.
rc_want=$1
re=$2
shift 2
fw=
while [ "$1" != "--" ]; do
	case $1 in
	--fw)
		fw=$(mktemp -d) || exit 1
		truncate -s "$3" "$fw/$2" || exit 1
		shift 3 ;;
	--need-qemu)
		if ! command -v qemu-system-aarch64 >/dev/null 2>&1; then
			echo "qemu-system-aarch64 not installed: skipped"
			exit 77
		fi
		shift ;;
	*) echo "cli_expect.sh: bad argument $1"; exit 1 ;;
	esac
done
shift
err=$(mktemp) || exit 1
if [ -n "$fw" ]; then
	cmd=
	for a in "$@"; do
		[ "$a" = "@FW@" ] && a=$fw
		set -- "$@" "$a"
	done
	# drop the original arguments (the first half)
	n=$(($# / 2))
	shift $n
fi
"$@" >/dev/null 2>"$err"
rc=$?
[ -n "$fw" ] && rm -rf "$fw"
lines=$(wc -l <"$err")
echo "exit status $rc, stderr:"
cat "$err"
ok=1
[ "$rc" -eq "$rc_want" ] || { echo "FAIL: expected exit status $rc_want"; ok=0; }
[ "$lines" -eq 1 ] || { echo "FAIL: expected one line on stderr, got $lines"; ok=0; }
grep -Eq -- "$re" "$err" || { echo "FAIL: stderr does not match: $re"; ok=0; }
rm -f "$err"
[ $ok -eq 1 ]
