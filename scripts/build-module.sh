#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build cpns.ko against KDIR in a copy of the sources under OUTDIR, so that
# modules for several kernels can be built from one tree.
#
#   build-module.sh KDIR OUTDIR [kunit]
#
# With "kunit", the KUnit suites of kernel/tests/ are built in (the kernel
# must have CONFIG_KUNIT=y) and their vectors generated from
# $CPNS_SHARED/vectors (default: ../shared beside the repository).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1 out=$2 kunit=${3:-}
shared=${CPNS_SHARED:-$top/../shared}
[ -d "$kdir" ] || { echo "build-module: no kernel build directory $kdir" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Mirror the sources; drop copies of files that no longer exist.
if [ -d "$out/kernel" ]; then
	(cd "$out" && find kernel include -name '*.[ch]' -type f) | while read -r f; do
		[ -e "$top/$f" ] || rm -f "$out/$f"
	done
fi
# Copy what changed with a fresh time stamp, so that make rebuilds from
# it even when the copy is older than an object built from other sources
# (another checkout, another commit); leave the rest as it is.
(cd "$top" && find Kbuild kernel include -type f) | while read -r f; do
	if ! cmp -s "$top/$f" "$out/$f"; then
		mkdir -p "$(dirname "$out/$f")"
		cp "$top/$f" "$out/$f"
	fi
done
args=()
if [ "$kunit" = kunit ]; then
	args+=(CPNS_KUNIT=y)
	python3 "$top/scripts/kunit-vectors.py" "$shared/vectors" "$out/kernel/tests/cpns_vectors.h.tmp"
	cmp -s "$out/kernel/tests/cpns_vectors.h.tmp" "$out/kernel/tests/cpns_vectors.h" ||
		mv "$out/kernel/tests/cpns_vectors.h.tmp" "$out/kernel/tests/cpns_vectors.h"
	rm -f "$out/kernel/tests/cpns_vectors.h.tmp"
fi
make -s -j"$(nproc)" -C "$kdir" M="$out" W=1 "${args[@]}" modules
