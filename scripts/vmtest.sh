#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run some of the kselftests in one guest, as make check does, while
# working on them:
#
#   vmtest.sh stock|debug [TEST...]
#
# Builds the module for that kernel and the selftests under
# build/vmtest-FLAVOUR (CPNS_VMTEST_DIR overrides), boots the kernel and runs
# the named tests (all without names). The debug guest also runs the KUnit
# suites and the kmemleak scans. Prints the TAP counts; the whole console
# is in build/vmtest-FLAVOUR/vm/console.log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
flavour=${1:?usage: vmtest.sh stock|debug [TEST...]}
shift
export CPNS_SHARED=${CPNS_SHARED:-$top/../shared}
b=${CPNS_VMTEST_DIR:-$top/build/vmtest-$flavour}
mkdir -p "$b"
b=$(cd "$b" && pwd)
rm -rf "$b/vm"

case $flavour in
stock)
	ver=
	for v in $(ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do
		if [ -d "/lib/modules/$v/build" ]; then ver=$v; break; fi
	done
	[ -n "$ver" ] || { echo "vmtest: no Debian kernel with headers (make deps)" >&2; exit 1; }
	kernel=/boot/vmlinuz-$ver
	vmargs=(--modules "$ver" --timeout 1800)
	scripts/build-module.sh "/lib/modules/$ver/build" "$b/mod" >&2
	ksft_inc=$(tools/testing/vm/kselftest-headers.sh)
	;;
debug)
	kdbg=$(tools/testing/vm/build-kernel.sh)
	kernel=$kdbg/bzImage
	vmargs=(--timeout 2400 --mem 2048)
	scripts/build-module.sh "$kdbg/obj" "$b/mod" >&2
	scripts/build-module.sh "$kdbg/obj" "$b/mod-kunit" kunit >&2
	ksft_inc=$kdbg/selftests
	;;
*)
	echo "vmtest: the kernel is 'stock' or 'debug'" >&2
	exit 2
	;;
esac
make -s -C tools >&2
make -s -C selftests O="$b/selftests" KSFT_INC="$ksft_inc" >&2

rc=0
tools/testing/vm/run.sh --kernel "$kernel" --name "vmtest-$flavour" --out "$b/vm" \
	--share "$top" --share "$CPNS_SHARED" --plan tools/testing/vm/plan.sh "${vmargs[@]}" \
	-- "$flavour" "$top" "$b" "$b/selftests" "$@" || rc=$?
taps=("$b/vm/vm.tap")
for f in "$b/vm"/selftests/*.tap "$b/vm"/kmemleak.tap "$b/vm"/kunit.log; do
	[ -f "$f" ] && taps+=("$f")
done
tools/testing/tap-count.py "${taps[@]}" || rc=1
exit $rc
