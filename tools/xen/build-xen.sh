#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# build-xen.sh - build the arm64 Xen hypervisor from Debian 12's xen source
# package, with teegate as its OP-TEE mediator (or, for comparison, with
# Xen's own optee.c).
#
# usage: tools/xen/build-xen.sh [options]
#   --mediator M   teegate (default) or optee (Xen's own xen/arch/arm/tee/optee.c,
#                  the same tree and settings otherwise)
#   --source DIR   build this Xen tree instead of Debian's source package
#                  (e.g. an upstream release checkout; it is copied, not changed)
#   --work DIR     where the source, the build tree and the apt state go
#                  (default: build-xen/ in the project)
#   --out DIR      where xen-M, xen-syms-M and objs-M/ (the mediator's own
#                  objects, for cost-ranges.py) are written (default: WORK/out)
#   --cmdline STR  Xen command line built in (CONFIG_CMDLINE; QEMU's -bios boot
#                  cannot pass one); default: "console=dtuart sync_console
#                  dom0_mem=768M loglvl=all guest_loglvl=all" (sync_console:
#                  no console line is dropped, the QEMU UART never stalls)
#   --jobs N       parallel make jobs (default: nproc)
#
# Needs (Debian 12): gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu make
# flex bison dpkg-dev (tools/install-deps.sh). Debian's source comes through
# apt with a private deb-src list for bookworm main (the system's apt setup
# is not changed). Exit: 0 built, 1 build or check failed, 2 bad usage or
# missing prerequisite.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=debian-apt.sh
source "$here/debian-apt.sh"

mediator=teegate
source_dir=
work=$root/build-xen
out=
cmdline="console=dtuart sync_console dom0_mem=768M loglvl=all guest_loglvl=all"
jobs=$(nproc)

die() { echo "build-xen: $*" >&2; exit 2; }
usage() { sed -n '3,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--mediator) mediator=${2:-}; shift 2 || die "--mediator needs teegate or optee" ;;
	--source) source_dir=${2:-}; shift 2 || die "--source needs a directory" ;;
	--work) work=${2:-}; shift 2 || die "--work needs a directory" ;;
	--out) out=${2:-}; shift 2 || die "--out needs a directory" ;;
	--cmdline) cmdline=${2-}; shift 2 || die "--cmdline needs a string" ;;
	--jobs) jobs=${2:-}; shift 2 || die "--jobs needs a number" ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[[ $mediator == teegate || $mediator == optee ]] ||
	die "--mediator must be teegate or optee, not '$mediator'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number, not '$jobs'"
for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-ld aarch64-linux-gnu-nm \
	make flex bison; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: install the Debian packages tools/install-deps.sh lists"
done
mkdir -p "$work"
work=$(cd "$work" && pwd)
out=${out:-$work/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$work/build-$mediator.log
: >"$log"
t0=$SECONDS

# ---- the source ---------------------------------------------------------------
if [[ -z $source_dir ]]; then
	command -v dpkg-source >/dev/null ||
		die "dpkg-source not found: install dpkg-dev (tools/install-deps.sh)"
	src_top=$work/debian-src
	source_dir=$(find "$src_top" -mindepth 1 -maxdepth 1 -type d -name 'xen-*' \
		2>/dev/null | head -n 1 || true)
	if [[ -z $source_dir || ! -f $src_top/.complete ]]; then
		rm -rf "$src_top"
		mkdir -p "$src_top"
		echo "build-xen: fetching Debian's xen source package (bookworm main)"
		apt_private_init "$work/apt" || exit 2
		if ! (cd "$src_top" && apt_private_source "$work/apt" xen) >>"$log" 2>&1; then
			echo "build-xen: 'apt-get source xen' failed; see $log" >&2
			tail -n 5 "$log" >&2
			exit 2
		fi
		source_dir=$(find "$src_top" -mindepth 1 -maxdepth 1 -type d -name 'xen-*' | head -n 1)
		[[ -n $source_dir ]] || die "no xen-* directory after 'apt-get source xen' ($log)"
		basename "$(ls "$src_top"/xen_*.dsc)" .dsc >"$src_top/.complete"
	fi
	src_name=$(cat "$src_top/.complete")
else
	[[ -d $source_dir ]] || die "--source $source_dir: no such directory"
	source_dir=$(cd "$source_dir" && pwd)
	src_name=$(basename "$source_dir")
fi
[[ -f $source_dir/xen/arch/arm/tee/tee.c ]] ||
	die "$source_dir is not a Xen tree with Arm TEE mediators (no xen/arch/arm/tee/tee.c)"
echo "build-xen: source $src_name ($source_dir), mediator $mediator"

# ---- a private copy of the tree, the mediator put in ----------------------------
tree=$work/tree-$mediator
rm -rf "$tree"
mkdir -p "$tree"
(cd "$source_dir" && tar --exclude=.git --exclude='./xen/.config' -cf - .) |
	(cd "$tree" && tar -xf -)
mk=(make -C "$tree/xen" XEN_TARGET_ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
"${mk[@]}" distclean >>"$log" 2>&1 || true
if [[ $mediator == teegate ]]; then
	"$root/ports/xen/apply.sh" "$tree" | tee -a "$log" | sed 's/^/  /'
	fragment=$(cat "$tree/xen/arch/arm/tee/teegate/teegate.config")
	want=CONFIG_TEEGATE
else
	# Xen's own mediator: TEE is a visible option in 4.17, selected by
	# OPTEE in 4.18+ (a line for a hidden symbol is ignored).
	fragment=$'CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_TEE=y\nCONFIG_OPTEE=y'
	want=CONFIG_OPTEE
fi

# ---- configure -----------------------------------------------------------------------
if ! "${mk[@]}" defconfig >>"$log" 2>&1; then
	echo "build-xen: FAIL: 'make defconfig' failed; see $log" >&2
	exit 1
fi
{
	printf '%s\n' "$fragment"
	[[ -z $cmdline ]] || printf 'CONFIG_CMDLINE="%s"\n' "$cmdline"
} >>"$tree/xen/.config"
if ! "${mk[@]}" olddefconfig >>"$log" 2>&1; then
	echo "build-xen: FAIL: 'make olddefconfig' failed; see $log" >&2
	exit 1
fi
if ! grep -qx "$want=y" "$tree/xen/.config"; then
	echo "build-xen: FAIL: $want=y did not survive olddefconfig (see $tree/xen/.config)" >&2
	exit 1
fi
if [[ $mediator == teegate ]] && grep -qx 'CONFIG_OPTEE=y' "$tree/xen/.config"; then
	echo "build-xen: FAIL: CONFIG_OPTEE=y next to CONFIG_TEEGATE" >&2
	exit 1
fi

# ---- build ------------------------------------------------------------------------------
t1=$SECONDS
echo "build-xen: make -j$jobs (log: $log)"
if ! "${mk[@]}" -j"$jobs" >>"$log" 2>&1; then
	echo "build-xen: FAIL: the hypervisor did not build; first errors:" >&2
	grep -m 10 -E 'error:|Error [0-9]|undefined reference' "$log" | sed 's/^/  /' >&2
	exit 1
fi
t2=$SECONDS

# ---- check what was linked in --------------------------------------------------------------
syms=$tree/xen/xen-syms
descs=$(aarch64-linux-gnu-nm "$syms" | awk '$3 ~ /^__tee_desc_/ { sub(/^__tee_desc_/, "", $3); print $3 }' | sort | tr '\n' ' ')
if [[ ${descs% } != "$mediator" ]]; then
	echo "build-xen: FAIL: TEE mediators linked in: '${descs% }', expected '$mediator'" >&2
	exit 1
fi
if [[ $mediator == teegate ]] &&
	! aarch64-linux-gnu-nm "$syms" | grep -w tg_handle_smc >/dev/null; then
	echo "build-xen: FAIL: tg_handle_smc is not in xen-syms" >&2
	exit 1
fi
cp "$tree/xen/xen" "$out/xen-$mediator"
cp "$syms" "$out/xen-syms-$mediator"
# The mediator's own objects, for counting its instructions per call
# (src/tee/qemu/oracle-plugin/cost-ranges.py --count-object, next to
# xen-syms-M): Xen's optee.o, or teegate's port and core objects.
rm -rf "$out/objs-$mediator"
mkdir -p "$out/objs-$mediator"
if [[ $mediator == teegate ]]; then
	(cd "$tree/xen/arch/arm/tee/teegate" &&
		find . -name '*.o' ! -name built_in.o ! -name '*.init.o' -print0 |
		while IFS= read -r -d '' o; do
			cp "$o" "$out/objs-$mediator/$(echo "${o#./}" | tr / _)"
		done)
else
	cp "$tree/xen/arch/arm/tee/optee.o" "$out/objs-$mediator/optee.o"
fi
cp "$tree/xen/.config" "$out/xen-$mediator.config"
echo "$src_name" >"$out/xen-$mediator.source"
echo "build-xen: OK: $out/xen-$mediator ($(stat -c %s "$out/xen-$mediator") bytes;" \
	"mediator '$mediator' registered as OP-TEE; configure $((t1 - t0))s, make $((t2 - t1))s)"
