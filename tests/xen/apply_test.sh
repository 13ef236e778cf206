#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# apply_test.sh - ports/xen/apply.sh against two skeleton Xen trees (4.17
# and 4.18+ shapes: only the files apply.sh reads and edits). Checks what
# it copies, which interfaces it detects, that a second run replaces its
# lines instead of repeating them, and that --remove restores Xen's files
# byte for byte. No Xen source and no network needed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
apply=$root/ports/xen/apply.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}

skeleton() { # DIR 417|new
	local x=$1/xen
	mkdir -p "$x/arch/arm/tee" "$x/arch/arm/include/asm/tee"
	echo '/* tee.c */' >"$x/arch/arm/tee/tee.c"
	printf 'obj-y += tee.o\nobj-$(CONFIG_OPTEE) += optee.o\n' >"$x/arch/arm/tee/Makefile"
	if [[ $2 == 417 ]]; then
		printf 'config OPTEE\n\tbool "Enable OP-TEE mediator"\n\tdepends on TEE\n' >"$x/arch/arm/tee/Kconfig"
		echo 'int access_guest_memory_by_ipa(void);' >"$x/arch/arm/include/asm/guest_access.h"
		echo 'void arm_smccc_smc(void);' >"$x/arch/arm/include/asm/smccc.h"
		echo 'struct tee_mediator_ops { bool (*probe)(void); };' >"$x/arch/arm/include/asm/tee/tee.h"
	else
		printf 'config TEE\n\tbool\nconfig OPTEE\n\tbool "x" if UNSUPPORTED\n\tselect TEE\n' >"$x/arch/arm/tee/Kconfig"
		echo 'int access_guest_memory_by_gpa(void);' >"$x/arch/arm/include/asm/guest_access.h"
		echo 'void arm_smccc_1_2_smc(void);' >"$x/arch/arm/include/asm/smccc.h"
		printf 'struct tee_mediator_ops {\n int (*domain_teardown)(struct domain *d);\n void (*free_domain_ctx)(struct domain *d);\n};\n' >"$x/arch/arm/include/asm/tee/tee.h"
	fi
	cp "$x/arch/arm/tee/Kconfig" "$1/Kconfig.orig"
	cp "$x/arch/arm/tee/Makefile" "$1/Makefile.orig"
}

# the core, both protocols, and the table of protocols (copied into core/)
ncore=$(cd "$root/src" && ls core/*.c optee/*.c ffa/*.c protocols.c |
	grep -vc '_test\.c$')

for shape in 417 new; do
	t=$tmp/$shape
	skeleton "$t" $shape
	tee=$t/xen/arch/arm/tee
	"$apply" "$t" >/dev/null
	"$apply" "$t" >"$t/out"
	check "$shape: one TEEGATE entry after two runs" \
		test "$(grep -c '^config TEEGATE' "$tee/Kconfig")" -eq 1
	check "$shape: one Makefile line after two runs" \
		test "$(grep -c 'CONFIG_TEEGATE' "$tee/Makefile")" -eq 1
	check "$shape: every core, OP-TEE and FF-A source copied ($ncore)" \
		test "$(find "$tee/teegate/core" "$tee/teegate/optee" \
			"$tee/teegate/ffa" -name '*.c' | wc -l)" -eq "$ncore"
	check "$shape: the built-in protocol's header copied" \
		test -f "$tee/teegate/builtin_proto.h"
	check "$shape: the port and the shims copied" \
		test -f "$tee/teegate/tg_xen.c" -a -f "$tee/teegate/include/stdatomic.h" \
		-a -f "$tee/teegate/include/teegate/mediator.h"
	check "$shape: core objects listed for Xen's build" \
		test "$(grep -c '^obj-y += .*\.o$' "$tee/teegate/core/Makefile" "$tee/teegate/optee/Makefile" \
			"$tee/teegate/ffa/Makefile" |
			awk -F: '{ s += $2 } END { print s }')" -eq "$ncore"
	check "$shape: the fragment enables TEEGATE, not OPTEE" \
		grep -qx 'CONFIG_TEEGATE=y' "$tee/teegate/teegate.config"
	check "$shape: TEEGATE excludes OPTEE in Kconfig" grep -q '!OPTEE' "$tee/Kconfig"
	if [[ $shape == 417 ]]; then
		check "417: no newer interface detected" \
			bash -c "! grep -q TG_XEN_HAVE '$tee/teegate/tg_xen_config.h'"
		check "417: TEE is a dependency, not selected" \
			bash -c "! grep -q 'select TEE' <(sed -n '/TEEGATE/,\$p' '$tee/Kconfig')"
		check "417: the fragment sets CONFIG_TEE" grep -qx 'CONFIG_TEE=y' "$tee/teegate/teegate.config"
	else
		for i in ACCESS_BY_GPA SMCCC_1_2 DOMAIN_TEARDOWN FREE_DOMAIN_CTX; do
			check "new: TG_XEN_HAVE_$i detected" \
				grep -q "define TG_XEN_HAVE_$i " "$tee/teegate/tg_xen_config.h"
		done
		check "new: TEEGATE selects TEE" \
			grep -q 'select TEE' <(sed -n '/TEEGATE/,$p' "$tee/Kconfig")
	fi
	"$apply" --remove "$t" >/dev/null
	check "$shape: --remove restores Kconfig byte for byte" cmp -s "$t/Kconfig.orig" "$tee/Kconfig"
	check "$shape: --remove restores Makefile byte for byte" cmp -s "$t/Makefile.orig" "$tee/Makefile"
	check "$shape: --remove deletes teegate/" test ! -e "$tee/teegate"
done

# The xen/ directory itself is accepted too.
skeleton "$tmp/sub" 417
check "XEN_SRC may be the xen/ directory" bash -c "'$apply' '$tmp/sub/xen' >/dev/null && test -d '$tmp/sub/xen/arch/arm/tee/teegate'"

# Not a Xen tree: one line, exit 2.
set +e
err=$("$apply" "$tmp/nowhere" 2>&1 >/dev/null)
rc=$?
set -e
check "not a Xen tree: exit 2" test $rc -eq 2
check "not a Xen tree: one line that says what to give" \
	bash -c "test \$(printf '%s\n' \"\$1\" | wc -l) -eq 1 && grep -q 'is not a Xen source tree' <<<\"\$1\"" _ "$err"

echo "apply_test: $fails failed"
[[ $fails -eq 0 ]]
