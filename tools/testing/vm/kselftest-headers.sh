#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print a directory holding kselftest.h and kselftest_harness.h, extracted
# once from Debian's linux-source into the cache.
set -euo pipefail
cache_root=${CPNS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpns}
tarball=$(ls -1 /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$tarball" ] || { echo "kselftest-headers: no linux-source (make deps)" >&2; exit 1; }
pkg=$(basename "$tarball" .tar.xz)
dir="$cache_root/ksft-$pkg-$(stat -c %Y "$tarball")"
if [ ! -f "$dir/kselftest_harness.h" ]; then
	tmp=$(mktemp -d)
	tar -C "$tmp" -xf "$tarball" "$pkg/tools/testing/selftests/kselftest.h" \
		"$pkg/tools/testing/selftests/kselftest_harness.h"
	mkdir -p "$dir"
	cp "$tmp/$pkg/tools/testing/selftests/"kselftest*.h "$dir/"
	rm -rf "$tmp"
fi
echo "$dir"
