#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# make-images.sh - the guest images for booting Xen with teegate in QEMU,
# from Debian 12 arm64 packages (apt-get download, bookworm main), plus the
# OP-TEE test tools the user built.
#
# usage: tools/xen/make-images.sh --xtest DIR [options]
#   --xtest DIR   optee_client + optee_test 4.10 for arm64, built by the user
#                 (docs/xen.md), as a root-file-system tree: usr/bin/xtest,
#                 usr/bin/tee-supplicant, usr/lib/libteec.so.2*,
#                 usr/lib/libckteec.so.0*, lib/optee_armtz/*.ta, and
#                 usr/lib/tee-supplicant/plugins/*.plugin
#   --xen DIR     where tools/xen/build-xen.sh wrote xen-teegate (and
#                 xen-optee, if built): copied into the image directory
#                 (default: build-xen/out)
#   --out DIR     the image directory (default: build-xen/images)
#   --work DIR    downloads and staging (default: build-xen/images-work)
#   --hostile IMG the project's hostile guest image, put into dom0's /boot
#                 for xl create (default: build/src/guest/image/tg-hostile.Image
#                 when it exists; 'none' leaves it out)
#   --clients DIR where src/xen-clients/build-arm64.sh wrote tg-xen-client:
#                 it goes into every image, with Debian's libteec1 that it
#                 needs (default: build-xen/clients when it holds one;
#                 'none' leaves it out); its optee_armtz/*.ta (the bigbuf
#                 TA, build-arm64.sh --ta-dev-kit) go into the xtest
#                 images' /lib/optee_armtz
#
# It writes into --out:
#   vmlinuz             Debian's linux-image-arm64 kernel (dom0 and domUs)
#   dom0.cpio.gz        busybox-static, libc6, xen-utils-4.17 and its
#                       libraries, the kernel's tee/optee/xen modules,
#                       optee_client + xtest from --xtest, and in /boot the
#                       kernel and the two domU images below (for xl create)
#   domU-xtest.cpio.gz  busybox-static, libc6, tee/optee modules, optee_client
#                       + xtest from --xtest
#   domU-deb.cpio.gz    busybox-static, libc6, tee/optee modules, Debian's own
#                       libteec1 and tee-supplicant (optee-client 3.19), and
#                       teec-check (tools/xen/guest/teec-check.c) linked
#                       against that libteec.so.1
#   (with --clients, every image has tg-xen-client and libteec.so.1; with
#   --hostile, dom0 has /boot/tg-hostile.Image)
#   bl33.bin            the 40-byte BL33 stub that enters Xen (bl33-xen.S)
#   xen-teegate, xen-optee   the hypervisors, copied from --xen, with
#                       xen-syms-M and objs-M/ (for run-xen --cost)
#   tg-hostile.elf      the hostile image's ELF (its call sites, for --cost)
#   MANIFEST            every package and version that went in
# Exit: 0 done, 1 failed, 2 bad usage or missing prerequisite.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=debian-apt.sh
source "$here/debian-apt.sh"

xtest=
hostile=
clients=
xen_dir=$root/build-xen/out
out=$root/build-xen/images
work=$root/build-xen/images-work

die() { echo "make-images: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--xtest) xtest=${2:-}; shift 2 || die "--xtest needs a directory" ;;
	--xen) xen_dir=${2:-}; shift 2 || die "--xen needs a directory" ;;
	--out) out=${2:-}; shift 2 || die "--out needs a directory" ;;
	--work) work=${2:-}; shift 2 || die "--work needs a directory" ;;
	--hostile) hostile=${2:-}; shift 2 || die "--hostile needs an image file (or none)" ;;
	--clients) clients=${2:-}; shift 2 || die "--clients needs a directory (or none)" ;;
	-h|--help) sed -n '3,46p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[[ -n $xtest ]] || die "--xtest DIR is required: optee_client + optee_test 4.10 built for arm64 (docs/xen.md)"
for f in usr/bin/xtest usr/bin/tee-supplicant lib/optee_armtz; do
	[[ -e $xtest/$f ]] || die "--xtest $xtest has no $f: build optee_client and optee_test 4.10 for arm64 and install them there (docs/xen.md)"
done
ls "$xtest"/usr/lib/libteec.so.2* >/dev/null 2>&1 ||
	die "--xtest $xtest has no usr/lib/libteec.so.2: xtest 4.10 needs optee_client 4.10's libteec"
if [[ -z $hostile && -f $root/build/src/guest/image/tg-hostile.Image ]]; then
	hostile=$root/build/src/guest/image/tg-hostile.Image
fi
[[ $hostile == none ]] && hostile=
[[ -z $hostile || -f $hostile ]] ||
	die "--hostile $hostile: no such file (build it with make: build/src/guest/image/tg-hostile.Image)"
if [[ -z $clients && -f $root/build-xen/clients/tg-xen-client ]]; then
	clients=$root/build-xen/clients
fi
[[ $clients == none ]] && clients=
[[ -z $clients || -f $clients/tg-xen-client ]] ||
	die "--clients $clients has no tg-xen-client: build it with src/xen-clients/build-arm64.sh --out $clients"
[[ -f $xen_dir/xen-teegate ]] ||
	die "no $xen_dir/xen-teegate: run tools/xen/build-xen.sh first (or give --xen DIR)"
for tool in dpkg-deb cpio gzip aarch64-linux-gnu-gcc aarch64-linux-gnu-as \
	aarch64-linux-gnu-ld aarch64-linux-gnu-objcopy aarch64-linux-gnu-readelf; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: install the Debian packages tools/install-deps.sh lists"
done
mkdir -p "$out" "$work"
out=$(cd "$out" && pwd)
work=$(cd "$work" && pwd)
xtest=$(cd "$xtest" && pwd)
t0=$SECONDS

# ---- Debian packages ---------------------------------------------------------------
apt_private_init "$work/apt" || exit 2
kernel_pkg=$(apt_private_depends "$work/apt" linux-image-arm64)
[[ -n $kernel_pkg ]] || die "cannot resolve linux-image-arm64 to a kernel package"
base_pkgs=(busybox-static libc6 libgcc-s1)
xen_pkgs=(xen-utils-4.17 xen-utils-common libxenmisc4.17 libxenstore4
	libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxencall1
	libxendevicemodel1 libxentoolcore1 libxenhypfs1 libxentoollog1 libyajl2
	libuuid1 libfdt1 zlib1g libext2fs2 libcom-err2 libncurses6 libtinfo6)
deb_pkgs=(libteec1 tee-supplicant optee-client-dev libckteec0 libseteec0)
all_pkgs=("${base_pkgs[@]}" "$kernel_pkg" "${xen_pkgs[@]}" "${deb_pkgs[@]}")
mkdir -p "$work/debs" "$work/pkg"
need=()
for p in "${all_pkgs[@]}"; do
	ls "$work/debs/${p}_"*.deb >/dev/null 2>&1 || need+=("$p")
done
if [[ ${#need[@]} -gt 0 ]]; then
	echo "make-images: apt-get download ${#need[@]} arm64 packages"
	if ! (cd "$work/debs" && apt_private_download "$work/apt" "${need[@]}") \
		>"$work/download.log" 2>&1; then
		echo "make-images: apt-get download failed; see $work/download.log" >&2
		tail -n 5 "$work/download.log" >&2
		exit 1
	fi
fi
: >"$out/MANIFEST.new"
for p in "${all_pkgs[@]}"; do
	deb=$(ls "$work/debs/${p}_"*.deb | head -n 1)
	if [[ ! -d $work/pkg/$p ]]; then
		dpkg-deb -x "$deb" "$work/pkg/$p.tmp"
		mv "$work/pkg/$p.tmp" "$work/pkg/$p"
	fi
	echo "$p $(dpkg-deb -f "$deb" Version) $(basename "$deb")" >>"$out/MANIFEST.new"
done
kver=$(ls "$work/pkg/$kernel_pkg/lib/modules" | head -n 1)
moddir=$work/pkg/$kernel_pkg/lib/modules/$kver

# ---- helpers ---------------------------------------------------------------------------
# put_pkg ROOT PKG: a package's files, without documentation.
put_pkg() {
	(cd "$work/pkg/$2" && tar --exclude=./usr/share/doc --exclude=./usr/share/man \
		--exclude=./usr/share/locale --exclude=./usr/share/lintian \
		--exclude=./usr/share/bug --exclude=./usr/lib/xen-4.17/lib/python \
		-cf - .) | (cd "$1" && tar -xf -)
}

# modules_closure NAME...: .ko paths (relative to lib/modules) in load order.
declare -A ko_path=()
while IFS= read -r f; do
	n=$(basename "$f" .ko)
	ko_path[${n//-/_}]=${f#"$work/pkg/$kernel_pkg/lib/modules/"}
done < <(find "$moddir/kernel" -name '*.ko')
declare -A seen=()
order=()
visit() {
	local n=${1//-/_} deps d
	[[ -n ${seen[$n]:-} ]] && return
	seen[$n]=1
	[[ -n ${ko_path[$n]:-} ]] || { echo "make-images: module $1 not in $kernel_pkg (built in?)" >&2; return; }
	deps=$(aarch64-linux-gnu-objcopy -O binary -j .modinfo \
		"$work/pkg/$kernel_pkg/lib/modules/${ko_path[$n]}" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
	for d in $deps; do visit "$d"; done
	order+=("${ko_path[$n]}")
}
modules_closure() {
	seen=()
	order=()
	for m in "$@"; do visit "$m"; done
	printf '%s\n' "${order[@]}"
}

# guest_root ROLE MODULES...: a fresh root with busybox, libc, /init.
guest_root() {
	local role=$1 r=$work/root-$1 m
	shift
	rm -rf "$r"
	mkdir -p "$r/etc/teegate" "$r/lib/modules"
	for p in "${base_pkgs[@]}"; do put_pkg "$r" "$p"; done
	install -m 0755 "$here/guest/init" "$r/init"
	install -m 0644 "$here/guest/lib.sh" "$r/etc/teegate/lib.sh"
	for s in "$here"/guest/*.sh; do
		[[ $(basename "$s") == lib.sh ]] || install -m 0644 "$s" "$r/etc/teegate/"
	done
	modules_closure "$@" >"$r/etc/teegate/modules"
	while read -r m; do
		mkdir -p "$r/lib/modules/$(dirname "$m")"
		cp "$work/pkg/$kernel_pkg/lib/modules/$m" "$r/lib/modules/$m"
	done <"$r/etc/teegate/modules"
	echo "$role" >"$r/etc/teegate/role"
	echo "$r"
}

# put_clients ROOT: tg-xen-client and Debian's libteec.so.1 it needs.
put_clients() {
	[[ -n $clients ]] || return 0
	put_pkg "$1" libteec1
	install -D -m 0755 "$clients/tg-xen-client" "$1/usr/bin/tg-xen-client"
	if [[ -d $1/lib/optee_armtz ]] && ls "$clients"/optee_armtz/*.ta >/dev/null 2>&1; then
		cp "$clients"/optee_armtz/*.ta "$1/lib/optee_armtz/"
	fi
}

put_xtest() {
	local r=$1
	mkdir -p "$r/usr/bin" "$r/usr/lib" "$r/lib/optee_armtz" "$r/var/lib/tee"
	cp -a "$xtest/usr/bin/." "$r/usr/bin/"
	(cd "$xtest/usr/lib" && tar -cf - .) | (cd "$r/usr/lib" && tar -xf -)
	cp -a "$xtest/lib/optee_armtz/." "$r/lib/optee_armtz/"
}

# check_needed ROOT BINARY...: every shared library each needs is in ROOT.
check_needed() {
	local r=$1 b lib d found missing=()
	shift
	for b in "$@"; do
		[[ -f $r/$b ]] || { missing+=("$b (the program itself)"); continue; }
		for lib in $(aarch64-linux-gnu-readelf -d "$r/$b" 2>/dev/null |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			found=0
			for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib \
				usr/lib/xen-4.17/lib; do
				[[ -e $r/$d/$lib ]] && found=1
			done
			[[ $found -eq 1 ]] || missing+=("$lib (for $b)")
		done
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "make-images: FAIL: $(basename "$r") lacks: ${missing[*]}" >&2
		exit 1
	fi
}

pack() { # ROOT NAME
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -3 >"$out/$2.new"
	mv "$out/$2.new" "$out/$2"
	echo "make-images: $2 $(stat -c %s "$out/$2") bytes"
}

# ---- teec-check against Debian's libteec1 ---------------------------------------------------
dev=$work/pkg/optee-client-dev
aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -I"$dev/usr/include" \
	"$here/guest/teec-check.c" -o "$work/teec-check" \
	-L"$dev/usr/lib/aarch64-linux-gnu" -L"$work/pkg/libteec1/usr/lib/aarch64-linux-gnu" \
	-l:libteec.so.1

# ---- the three roots --------------------------------------------------------------------------
r=$(guest_root dom0 tee optee xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs)
for p in "${xen_pkgs[@]}"; do put_pkg "$r" "$p"; done
put_xtest "$r"
put_clients "$r"
# The domUs' kernel and initramfs images, for xl create (domU-*.cpio.gz
# are packed first, below, so dom0 is packed last).
dom0_root=$r
r=$(guest_root domU tee optee)
put_xtest "$r"
put_clients "$r"
check_needed "$r" usr/bin/xtest usr/bin/tee-supplicant
[[ -z $clients ]] || check_needed "$r" usr/bin/tg-xen-client
pack "$r" domU-xtest.cpio.gz

r=$(guest_root domU-deb tee optee)
for p in libteec1 tee-supplicant; do put_pkg "$r" "$p"; done
install -D -m 0755 "$work/teec-check" "$r/usr/bin/teec-check"
[[ -z $clients ]] || install -D -m 0755 "$clients/tg-xen-client" "$r/usr/bin/tg-xen-client"
mkdir -p "$r/var/lib/optee-client/data/tee"
check_needed "$r" usr/sbin/tee-supplicant usr/bin/teec-check
pack "$r" domU-deb.cpio.gz

r=$dom0_root
mkdir -p "$r/boot"
cp "$work/pkg/$kernel_pkg/boot/vmlinuz-$kver" "$r/boot/vmlinuz"
cp "$out/domU-xtest.cpio.gz" "$out/domU-deb.cpio.gz" "$r/boot/"
[[ -z $hostile ]] || cp "$hostile" "$r/boot/tg-hostile.Image"
check_needed "$r" usr/lib/xen-4.17/bin/xl usr/lib/xen-4.17/bin/xenstored \
	usr/lib/xen-4.17/bin/xenconsoled usr/lib/xen-4.17/bin/xen-init-dom0 \
	usr/bin/xtest usr/bin/tee-supplicant
pack "$r" dom0.cpio.gz

# ---- kernel, BL33, Xen -------------------------------------------------------------------------
cp "$work/pkg/$kernel_pkg/boot/vmlinuz-$kver" "$out/vmlinuz"
aarch64-linux-gnu-as "$here/bl33-xen.S" -o "$work/bl33.o"
aarch64-linux-gnu-ld -Ttext=0x60000000 "$work/bl33.o" -o "$work/bl33.elf"
aarch64-linux-gnu-objcopy -O binary "$work/bl33.elf" "$out/bl33.bin"
for m in teegate optee; do
	if [[ -f $xen_dir/xen-$m ]]; then
		cp "$xen_dir/xen-$m" "$out/xen-$m"
		# For run-xen --cost: the symbols and the mediator's objects.
		if [[ -f $xen_dir/xen-syms-$m ]]; then
			cp "$xen_dir/xen-syms-$m" "$out/xen-syms-$m"
		fi
		if [[ -d $xen_dir/objs-$m ]]; then
			rm -rf "$out/objs-$m"
			cp -r "$xen_dir/objs-$m" "$out/objs-$m"
		fi
		echo "xen-$m $(cat "$xen_dir/xen-$m.source" 2>/dev/null || echo '?')" >>"$out/MANIFEST.new"
	fi
done
echo "xtest-dir $xtest" >>"$out/MANIFEST.new"
if [[ -n $hostile ]]; then
	echo "tg-hostile.Image $(sha256sum "$hostile" | cut -c1-16) $hostile" >>"$out/MANIFEST.new"
	# Its ELF, for the per-call counting's call-site marks (cost-ranges.py).
	[[ -f ${hostile%.Image}.elf ]] && cp "${hostile%.Image}.elf" "$out/tg-hostile.elf"
fi
[[ -z $clients ]] || echo "tg-xen-client $(sha256sum "$clients/tg-xen-client" | cut -c1-16) $(head -n 1 "$clients/tg-xen-client.MANIFEST" 2>/dev/null)" >>"$out/MANIFEST.new"
for ta in ${clients:+"$clients"/optee_armtz/*.ta}; do
	[[ -f $ta ]] && echo "bigbuf-ta $(basename "$ta") $(sha256sum "$ta" | cut -c1-16)" >>"$out/MANIFEST.new"
done
mv "$out/MANIFEST.new" "$out/MANIFEST"
echo "make-images: OK: $out (kernel $kver; $((SECONDS - t0))s)"
