#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# frontend_test.sh - tools/xen/run-xen's errors: a missing image, QEMU or
# firmware, or a bad option, is one line on stderr that says what to
# build or give, with exit status 2, before anything starts.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run=$root/tools/xen/run-xen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect NAME REGEX ARGS...: exit 2, exactly one line on stderr matching REGEX.
expect() {
	local name=$1 re=$2 err rc
	shift 2
	set +e
	err=$(env -u TEEGATE_XEN_IMAGES -u TEEGATE_XEN_FIRMWARE -u TEEGATE_OPTEE_FIRMWARE \
		${run_path:+PATH=$run_path} "$run" "$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	if [[ $rc -eq 2 && $(printf '%s\n' "$err" | wc -l) -eq 1 ]] &&
		grep -Eq -- "$re" <<<"$err"; then
		echo "ok   $name"
	else
		echo "FAIL $name: exit $rc, stderr:"
		printf '%s\n' "$err" | sed 's/^/     | /'
		fails=$((fails + 1))
	fi
}

img=$tmp/images
fw=$tmp/fw
mkdir -p "$img" "$fw"
for f in vmlinuz dom0.cpio.gz domU-xtest.cpio.gz domU-deb.cpio.gz bl33.bin xen-teegate; do
	echo x >"$img/$f"
done
for f in bl1.bin bl2.bin bl31.bin bl32.bin bl32_extra1.bin bl32_extra2.bin; do
	echo x >"$fw/$f"
done

expect "no --images" "--images DIR is required.*make-images.sh"
expect "image directory missing" "does not exist: build it with tools/xen/make-images.sh" \
	--images "$tmp/none" --firmware "$fw"
rm "$img/domU-xtest.cpio.gz"
expect "an image missing" "has no domU-xtest.cpio.gz: build it with tools/xen/make-images.sh" \
	--images "$img" --firmware "$fw"
echo x >"$img/domU-xtest.cpio.gz"
expect "Xen's own mediator not built" "has no xen-optee: build it with tools/xen/build-xen.sh --mediator optee" \
	--images "$img" --firmware "$fw" --mediator optee
expect "no firmware" "no firmware: give --firmware DIR.*CFG_NS_VIRTUALIZATION=y" \
	--images "$img"
expect "firmware directory missing" "firmware directory .* does not exist.*CFG_NS_VIRTUALIZATION=y" \
	--images "$img" --firmware "$tmp/nofw"
rm "$fw/bl31.bin"
expect "firmware incomplete" "lacks bl31.bin: build TF-A and OP-TEE 4.10" \
	--images "$img" --firmware "$fw"
echo x >"$fw/bl31.bin"
expect "QEMU missing" "/nonexistent/qemu-system-aarch64 not found: install QEMU" \
	--images "$img" --firmware "$fw" --qemu /nonexistent/qemu-system-aarch64
expect "bad --destroy" "--destroy must be domUN:SECONDS with N in 1..2" \
	--images "$img" --firmware "$fw" --destroy domU3:10
expect "bad suite" "unknown xtest suite 'gp'" \
	--images "$img" --firmware "$fw" --suites regression,gp
expect "bad --domus" "--domus must be 0..4" --images "$img" --firmware "$fw" --domus 9
# The side-by-side scenarios need the project's pieces in the images.
expect "hostile scenario without the image" "has no hostile image: build it with make .*make-images.sh --hostile" \
	--images "$img" --firmware "$fw" --scenario hostile
expect "client scenario without tg-xen-client" "has no tg-xen-client: build it with src/xen-clients/build-arm64.sh" \
	--images "$img" --firmware "$fw" --scenario fair
echo "tg-xen-client 0123 x" >"$img/MANIFEST"
echo "tg-hostile.Image 0123 x" >>"$img/MANIFEST"
expect "--cost without the symbols" "has no xen-syms-teegate \\(for --cost\\): rebuild Xen with tools/xen/build-xen.sh" \
	--images "$img" --firmware "$fw" --scenario cost --cost
mkdir "$img/objs-teegate"
echo x >"$img/xen-syms-teegate"
echo x >"$img/tg-hostile.elf"
expect "--cost without the plugin" "no plugin /nonexistent/tg-oracle.so: build it with make" \
	--images "$img" --firmware "$fw" --scenario cost --cost --plugin-so /nonexistent/tg-oracle.so
expect "bad --bigbuf" "--bigbuf takes tg-xen-client bigbuf's options" \
	--images "$img" --firmware "$fw" --scenario bigbuf --bigbuf "--sizes 1M;reboot"
expect "--target ta without the TA" "has no bigbuf TA \\(for --bigbuf '--target ta'\\): build it with src/xen-clients/build-arm64.sh .*--ta-dev-kit" \
	--images "$img" --firmware "$fw" --scenario bigbuf --bigbuf "--sizes 64M --target ta"
expect "bad --gdb port" "--gdb takes a TCP port 1024..65535, not 80" \
	--images "$img" --firmware "$fw" --gdb 80
expect "too short --stall" "--stall takes 0 \\(off\\) or at least 60 seconds, not 5" \
	--images "$img" --firmware "$fw" --stall 5
# run-xen with python3 alone on its PATH: no gdb-multiarch.
mkdir "$tmp/bin"
ln -s "$(python3 -c "import sys; print(sys.executable)")" "$tmp/bin/python3"
run_path=$tmp/bin
expect "--stall with --gdb but no gdb-multiarch" \
	"gdb-multiarch not found.*install it \\(Debian: gdb-multiarch\\)" \
	--images "$img" --firmware "$fw" --gdb 4321 --stall 600
run_path=
expect "bad scenario" "invalid choice: 'attack'" --images "$img" --firmware "$fw" --scenario attack
expect "unknown option" "unrecognized arguments: --bogus" --images "$img" --bogus

echo "frontend_test: $fails failed"
[[ $fails -eq 0 ]]
