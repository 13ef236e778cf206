#!/bin/sh
# cli_expect.sh RC PATTERN CMD... - run CMD; pass when it exits with RC and,
# for RC 2, prints exactly one line on stderr that matches PATTERN.
want=$1 pattern=$2
shift 2
err=$(mktemp)
"$@" >/dev/null 2>"$err"
rc=$?
lines=$(wc -l <"$err")
msg=$(cat "$err")
rm -f "$err"
if [ "$rc" -ne "$want" ]; then
	echo "exit status $rc, expected $want: $msg"
	exit 1
fi
if [ "$want" -eq 2 ] && [ "$lines" -ne 1 ]; then
	echo "expected one line on stderr, got $lines: $msg"
	exit 1
fi
if ! printf '%s\n' "$msg" | grep -q -- "$pattern"; then
	echo "stderr does not match '$pattern': $msg"
	exit 1
fi
echo "ok: $msg"
