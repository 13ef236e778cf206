#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# boot_test.sh - CTest label "xen": Xen with teegate booted over real
# OP-TEE in QEMU, dom0 and two domUs loading Linux's optee.ko through it
# and running a short xtest workload at the same time (1001 core self
# tests, 1004 shared memory, 4006 asymmetric crypto (minutes: RSA key
# generation), 6001 secure storage through tee-supplicant), the
# Debian-client domU running teec-check, and domU2 destroyed with xl 10 s
# into its run: it must be gone with nothing left pinned, and the others
# must finish.
# Runs when TEEGATE_XEN_IMAGES names an image directory
# (tools/xen/make-images.sh) and firmware is given
# (TEEGATE_XEN_FIRMWARE or TEEGATE_OPTEE_FIRMWARE); skipped (77) otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z ${TEEGATE_XEN_IMAGES:-} ]]; then
	echo "boot_test: TEEGATE_XEN_IMAGES is not set: skipped (docs/xen.md)"
	exit 77
fi
if [[ -z ${TEEGATE_XEN_FIRMWARE:-${TEEGATE_OPTEE_FIRMWARE:-}} ]]; then
	echo "boot_test: no TEEGATE_XEN_FIRMWARE (or TEEGATE_OPTEE_FIRMWARE): skipped"
	exit 77
fi
run=$(mktemp -d "${TMPDIR:-/tmp}/teegate-xen-XXXXXX")
"$root/tools/xen/run-xen" --images "$TEEGATE_XEN_IMAGES" \
	--domus 2 --dom0-suites regression --dom0-with-domus \
	--xtest-args "1001 1004 4006 6001" --destroy domU2:10 \
	--run-dir "$run" --timeout 1500 --status-every 60
