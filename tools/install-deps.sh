#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# install-deps.sh - install the Debian 12 packages teegate needs to build
# and to run every test. Run as root (or through sudo). README.md says
# what each package is for; .ci/run uses this same list.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: run as root, e.g. sudo $0" >&2
	exit 2
fi
if ! command -v apt-get >/dev/null; then
	echo "install-deps: apt-get not found: this script is for Debian 12" >&2
	exit 2
fi

packages=(
	# the build
	gcc libc6-dev make cmake pkg-config git
	# unit tests
	libcmocka-dev
	# sanitizers (ASan, UBSan, TSan) and libFuzzer
	clang
	# coverage of the mediator core
	gcovr
	# callgrind instruction budgets
	valgrind perl
	# freestanding cross-compile check; the QEMU relay firmware
	gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	# the sandboxed isolation mode's syscall allow-list
	libseccomp-dev
	# the --json files of the teegate command
	libjansson-dev
	# benchmark plots
	gnuplot-nox
	# real OP-TEE under QEMU (and its tests without OP-TEE)
	qemu-system-arm
	# Xen from Debian's xen source package with ports/xen (the xen stage)
	flex bison dpkg-dev
	# Xen guest images from Debian arm64 packages (tools/xen)
	cpio
	# run-xen --gdb --stall: a frozen machine's CPUs through QEMU's gdbstub
	gdb-multiarch
	# fuzz seed generator, small tools; the CLI tests read --json back
	python3
)

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
