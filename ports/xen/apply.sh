#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# apply.sh - put teegate into a Xen source tree as its OP-TEE mediator.
#
# usage: ports/xen/apply.sh [--remove] XEN_SRC
#   XEN_SRC   a Xen source tree the user already has: its top directory
#             (holding xen/) or xen/ itself. Xen 4.17 (Debian 12's xen
#             source package) and later upstream releases are supported.
#   --remove  take teegate out of that tree again (Xen's optee.c is
#             untouched either way).
#
# What it does, all inside XEN_SRC/xen/arch/arm/tee/:
#   - copies the mediator core (src/core, src/optee, src/ffa), its public headers,
#     this port (ports/xen/tg_xen.c) and the <std*.h> shims Xen's
#     -nostdinc build needs into teegate/, with Makefiles for Xen's build;
#   - writes teegate/tg_xen_config.h: which Xen interfaces this tree has
#     (access_guest_memory_by_gpa, arm_smccc_1_2_smc, domain_teardown,
#     free_domain_ctx), found by looking at the tree's headers;
#   - appends a "config TEEGATE" entry to tee/Kconfig (it excludes OPTEE:
#     Xen uses the first mediator whose probe succeeds) and
#     "obj-$(CONFIG_TEEGATE) += teegate/" to tee/Makefile, between marker
#     lines, so that running it again replaces rather than repeats them;
#   - writes teegate/teegate.config, the .config fragment that enables it.
#
# Then configure and build Xen as usual with that fragment merged in
# (tools/xen/build-xen.sh does all of it from Debian's source package).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
remove=0
usage() { echo "usage: $0 [--remove] XEN_SRC" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--remove) remove=1; shift ;;
	-h|--help) sed -n '3,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[[ $# -eq 1 ]] || usage

src=$1
if [[ -f $src/xen/arch/arm/tee/tee.c ]]; then
	xen=$(cd "$src/xen" && pwd)
elif [[ -f $src/arch/arm/tee/tee.c ]]; then
	xen=$(cd "$src" && pwd)
else
	echo "apply.sh: $src is not a Xen source tree with Arm TEE mediators" \
		"(no xen/arch/arm/tee/tee.c): give the top of a Xen tree, e.g." \
		"the directory 'apt-get source xen' unpacked" >&2
	exit 2
fi

tee=$xen/arch/arm/tee
dest=$tee/teegate
begin='# >>> teegate (ports/xen/apply.sh) >>>'
end='# <<< teegate <<<'

# strip_block FILE: remove what an earlier run appended.
strip_block() {
	local f=$1 tmp
	tmp=$(mktemp)
	awk -v b="$begin" -v e="$end" '
		$0 == b { skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$f" >"$tmp"
	cat "$tmp" >"$f"
	rm -f "$tmp"
}

strip_block "$tee/Kconfig"
strip_block "$tee/Makefile"
rm -rf "$dest"
if [[ $remove -eq 1 ]]; then
	echo "apply.sh: teegate removed from $xen"
	exit 0
fi

# ---- the files -------------------------------------------------------------
# The core, its two protocols (src/optee, src/ffa), the table that names
# them (src/protocols.c, built with the core here) and the header that
# names the core's built-in protocol (src/builtin_proto.h).
dirs=(core optee ffa)
mkdir -p "$dest/include/teegate" "$dest/core" "$dest/optee" "$dest/ffa"
cp "$root"/include/teegate/*.h "$dest/include/teegate/"
cp "$root"/ports/xen/include/*.h "$dest/include/"
cp "$root"/ports/xen/tg_xen.c "$dest/"
cp "$root"/src/builtin_proto.h "$dest/"
objs() { # DIR: the object list of a core directory (tests excluded)
	(cd "$root/$1" && ls -1 -- *.c | grep -v '_test\.c$' | LC_ALL=C sort |
		sed 's/\.c$/.o/')
	[[ $1 != src/core ]] || echo protocols.o
}
for d in "${dirs[@]}"; do
	cp "$root"/src/$d/*.h "$dest/$d/"
	for f in $(objs src/$d); do
		[[ $f == protocols.o ]] && continue
		cp "$root/src/$d/${f%.o}.c" "$dest/$d/"
	done
done
cp "$root"/src/protocols.c "$dest/core/"

# ---- which interfaces this Xen has -------------------------------------------
have() { grep -qE "$2" "$xen/$1" 2>/dev/null; }
{
	echo "/* Written by teegate's ports/xen/apply.sh for this Xen tree. */"
	echo "#ifndef TG_XEN_CONFIG_H"
	echo "#define TG_XEN_CONFIG_H"
	have arch/arm/include/asm/guest_access.h 'access_guest_memory_by_gpa' &&
		echo "#define TG_XEN_HAVE_ACCESS_BY_GPA 1     /* 4.18+ */"
	have arch/arm/include/asm/smccc.h 'arm_smccc_1_2_smc' &&
		echo "#define TG_XEN_HAVE_SMCCC_1_2 1         /* 4.18+ */"
	have arch/arm/include/asm/tee/tee.h '\(\*domain_teardown\)' &&
		echo "#define TG_XEN_HAVE_DOMAIN_TEARDOWN 1   /* 4.18+ */"
	have arch/arm/include/asm/tee/tee.h '\(\*free_domain_ctx\)' &&
		echo "#define TG_XEN_HAVE_FREE_DOMAIN_CTX 1   /* 4.19+ */"
	echo "#endif"
} >"$dest/tg_xen_config.h"

# ---- Makefiles for Xen's build -------------------------------------------------
hdr="# Written by teegate's ports/xen/apply.sh."
cat >"$dest/Makefile" <<EOF
$hdr
obj-y += core/
obj-y += optee/
obj-y += ffa/
obj-y += tg_xen.o
CFLAGS-y += -I\$(srcdir)/include
EOF
for d in "${dirs[@]}"; do
	{
		echo "$hdr"
		echo "# The mediator core, compiled as it is; the shims in"
		echo "# ../include stand in for the C library headers."
		for o in $(objs src/$d); do echo "obj-y += $o"; done
		echo "CFLAGS-y += -I\$(srcdir)/../include -I\$(srcdir)/../core -I\$(srcdir)/../optee -I\$(srcdir)/../ffa"
		echo "CFLAGS-y += -include \$(srcdir)/../include/tg_xen_prelude.h"
	} >"$dest/$d/Makefile"
done

# ---- Kconfig, tee/Makefile, the .config fragment ---------------------------------
if grep -q 'select TEE' "$tee/Kconfig"; then
	# 4.18+: TEE is a hidden symbol that each mediator selects.
	deps='depends on ARM_64 && !OPTEE'
	prompt='bool "teegate OP-TEE mediator (UNSUPPORTED)" if UNSUPPORTED'
	sel='	select TEE'
	fragment=$'CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_TEEGATE=y\n# CONFIG_OPTEE is not set'
else
	# 4.17: TEE is a visible option under UNSUPPORTED.
	deps='depends on TEE && ARM_64 && !OPTEE'
	prompt='bool "teegate OP-TEE mediator"'
	sel=
	fragment=$'CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_TEE=y\nCONFIG_TEEGATE=y\n# CONFIG_OPTEE is not set'
fi
{
	echo "$begin"
	echo
	echo "config TEEGATE"
	echo "	$prompt"
	echo "	default n"
	echo "	$deps"
	[[ -z $sel ]] || echo "$sel"
	echo "	help"
	echo "	  teegate: an OP-TEE mediator that lets several domains share"
	echo "	  one OP-TEE built with CFG_NS_VIRTUALIZATION=y, in place of"
	echo "	  Xen's own OP-TEE mediator (OPTEE). Domains opt in as they do"
	echo "	  for OPTEE: dom0 always, domUs with xl's tee=\"optee\"."
	echo "$end"
} >>"$tee/Kconfig"
{
	echo "$begin"
	echo 'obj-$(CONFIG_TEEGATE) += teegate/'
	echo "$end"
} >>"$tee/Makefile"
printf '%s\n' "$fragment" >"$dest/teegate.config"

n=$(find "$dest" -name '*.c' | wc -l)
echo "apply.sh: teegate put into $xen/arch/arm/tee/teegate ($n C files)"
ifs=$(grep -o 'TG_XEN_HAVE_[A-Z_0-9]*' "$dest/tg_xen_config.h" | tr '\n' ' ' || true)
echo "apply.sh: newer Xen interfaces found: ${ifs:-none (Xen 4.17: by_ipa copies, a private 8-register SMC helper)}"
echo "apply.sh: enable it with the fragment $dest/teegate.config, e.g."
echo "  append it to xen/.config and run 'make olddefconfig'"
