#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# build-arm64.sh - tg-xen-client (src/xen-clients) for an arm64 Linux guest,
# against Debian 12's libteec (optee-client 3.19): apt-get download of
# optee-client-dev:arm64 and libteec1:arm64, unpacked into the work
# directory (nothing is installed), then Debian's aarch64 cross compiler.
#
# usage: src/xen-clients/build-arm64.sh [--out DIR] [--work DIR]
#                                       [--ta-dev-kit DIR]
#   --out DIR    where tg-xen-client goes (default build-xen/clients)
#   --work DIR   downloads and the unpacked packages (default
#                build-xen/clients-work)
#   --ta-dev-kit DIR  also build the bigbuf TA (src/xen-clients/ta) with
#                the TA dev kit of the OP-TEE 4.10 the user built (its
#                export-ta_arm64 directory), into DIR-of---out/optee_armtz/
# The program needs libteec.so.1 in the guest (Debian's libteec1:arm64);
# the TA needs tee-supplicant to load it (make-images.sh puts it into
# /lib/optee_armtz of the xtest domU).
# Exit: 0 built, 1 the build failed, 2 bad usage or a missing tool.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build-xen/clients
work=$root/build-xen/clients-work
ta_dev_kit=

die() { echo "build-arm64: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--out) out=${2:-}; shift 2 || die "--out needs a directory" ;;
	--work) work=${2:-}; shift 2 || die "--work needs a directory" ;;
	--ta-dev-kit) ta_dev_kit=${2:-}; shift 2 || die "--ta-dev-kit needs a directory" ;;
	-h|--help) sed -n '3,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
for tool in apt-get dpkg-deb aarch64-linux-gnu-gcc; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: install the Debian packages tools/install-deps.sh lists"
done
if [[ -n $ta_dev_kit && ! -f $ta_dev_kit/mk/ta_dev_kit.mk ]]; then
	die "--ta-dev-kit $ta_dev_kit has no mk/ta_dev_kit.mk: give the export-ta_arm64 directory of an OP-TEE 4.10 build"
fi
mkdir -p "$out" "$work/debs" "$work/sysroot"
work=$(cd "$work" && pwd)
if ! ls "$work"/debs/optee-client-dev_*_arm64.deb "$work"/debs/libteec1_*_arm64.deb \
	>/dev/null 2>&1; then
	if ! (cd "$work/debs" && apt-get download optee-client-dev:arm64 libteec1:arm64) \
		>"$work/download.log" 2>&1; then
		die "apt-get download optee-client-dev:arm64 libteec1:arm64 failed ($work/download.log): on Debian 12, 'dpkg --add-architecture arm64 && apt-get update' first"
	fi
fi
for d in "$work"/debs/*.deb; do
	dpkg-deb -x "$d" "$work/sysroot"
done
sys=$work/sysroot
[[ -f $sys/usr/include/tee_client_api.h ]] || die "optee-client-dev:arm64 has no tee_client_api.h?"
aarch64-linux-gnu-gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes \
	-I"$sys/usr/include" -o "$out/tg-xen-client" \
	"$here"/linux_main.c "$here"/common.c "$here"/bigbuf.c "$here"/fair.c \
	"$here"/victim.c \
	-L"$sys/usr/lib/aarch64-linux-gnu" -lteec -lpthread || exit 1
{
	echo "tg-xen-client built $(date -u +%FT%TZ) from $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
	for d in "$work"/debs/*.deb; do
		dpkg-deb -f "$d" Package Version Architecture | tr '\n' ' '
		echo
	done
} >"$out/tg-xen-client.MANIFEST"
echo "build-arm64: $out/tg-xen-client (needs libteec.so.1 in the guest: Debian's libteec1:arm64)"
[[ -n $ta_dev_kit ]] || exit 0
# The TA: the dev kit's own make rules; its objects stay in the work
# directory, the signed TA goes to $out/optee_armtz.
ta_dev_kit=$(cd "$ta_dev_kit" && pwd)
mkdir -p "$out/optee_armtz" "$work/ta"
make -s -C "$here/ta" CROSS_COMPILE=aarch64-linux-gnu- \
	TA_DEV_KIT_DIR="$ta_dev_kit" O="$work/ta" >"$work/ta.log" 2>&1 ||
	{ echo "build-arm64: the bigbuf TA failed to build ($work/ta.log)" >&2; exit 1; }
cp "$work"/ta/*.ta "$out/optee_armtz/"
echo "TA $(basename "$work"/ta/*.ta) built with $ta_dev_kit" >>"$out/tg-xen-client.MANIFEST"
echo "build-arm64: $out/optee_armtz/$(basename "$work"/ta/*.ta) (the bigbuf TA; tee-supplicant loads it)"
