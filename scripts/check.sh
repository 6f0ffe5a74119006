#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: host tests, then the stock Debian kernel and the debug kernel
# in qemu. Ends with one line "N passed, N failed, N skipped" counting every
# TAP/KTAP case, and exits non-zero on any failure.
#
# Environment: CPNS_SHARED (default ../shared), CPNS_CACHE (debug kernel
# cache), CPNS_SKIP_DEBUG=1 to leave out the debug kernel while working.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export CPNS_SHARED=${CPNS_SHARED:-$top/../shared}
b=$top/build
res=$b/results
rm -rf "$res" "$b/vm-stock" "$b/vm-debug" "$b/vm-debug2"
mkdir -p "$res"
t0=$(date +%s)
say() { echo "check: [$(($(date +%s) - t0))s] $*" >&2; }
taps=()
fail_case() { # NAME DESCRIPTION: record a step that failed before any test ran
	printf 'TAP version 13\n1..1\nnot ok 1 - %s\n' "$2" >"$res/$1.tap"
	taps+=("$res/$1.tap")
}

scripts/deps.sh --check 2>/dev/null || scripts/deps.sh || { echo "check: make deps failed" >&2; exit 1; }
[ -d "$CPNS_SHARED/vectors" ] || { echo "check: no vectors in $CPNS_SHARED/vectors (set CPNS_SHARED)" >&2; exit 1; }

# A step that fails without reporting a failed case of its own (a build
# error, a crash) still counts as one failure.
tap_step() { # NAME COMMAND...: TAP of COMMAND to $res/NAME.tap
	local name=$1
	shift
	"$@" >"$res/$name.tap" 2>"$res/$name.err"
	local rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 30 "$res/$name.err" >&2
		grep -q '^not ok' "$res/$name.tap" ||
			echo "not ok 999 - $name: '$*' exited with status $rc" >>"$res/$name.tap"
	fi
	taps+=("$res/$name.tap")
}

# --- the debug kernel: a cached build, or a fresh one in the background -----------
# On a cold cache the build is the longest step; what follows (host tests,
# the stock guest, the fuzz run) fills the cores whenever it runs one job.
kpid=
if [ -z "${CPNS_SKIP_DEBUG:-}" ]; then
	say "debug kernel (cached build or a fresh one, in the background)"
	tools/testing/vm/build-kernel.sh >"$res/debug-kernel.path" 2>"$res/debug-kernel.log" &
	kpid=$!
fi

# --- host: build, library tests ------------------------------------------------
say "tools and host tests"
tap_step host make -s -j2 -C tools check CPNS_VECTORS="$CPNS_SHARED/vectors"
make -s -j2 -C tools/bench >/dev/null 2>&1 || true

# --- kernels -------------------------------------------------------------------
# The stock guest starts as soon as its module and the selftests are
# built, so that it runs while the debug kernel builds (on a cold cache)
# and while the debug modules build.
stock_ver=
for v in $(ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do
	if [ -d "/lib/modules/$v/build" ]; then stock_ver=$v; break; fi
done

vm() { # NAME FLAVOUR KERNEL MODDIR VM-ARGS... -- [TEST...]
	local name=$1 flavour=$2 kernel=$3 moddir=$4
	shift 4
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	tools/testing/vm/run.sh --kernel "$kernel" --name "$name" --out "$b/vm-$name" \
		--share "$top" --share "$CPNS_SHARED" --plan tools/testing/vm/plan.sh \
		${CPNS_SMP:+--smp "$CPNS_SMP"} "${args[@]}" \
		-- "$flavour" "$top" "$moddir" "$top/build/selftests" "$@" 2>"$res/vm-$name.log"
}

say "selftests and the module for the stock kernel"
pids=()
selftests_ok=
if ksft_inc=$(tools/testing/vm/kselftest-headers.sh 2>"$res/selftests-build.log") &&
   make -s -C selftests KSFT_INC="$ksft_inc" >>"$res/selftests-build.log" 2>&1; then
	selftests_ok=1
else
	cat "$res/selftests-build.log" >&2
	fail_case selftests-build "selftests build"
fi
if [ -z "$stock_ver" ]; then
	fail_case stock-kernel "a Debian kernel with headers is installed"
elif ! scripts/build-module.sh "/lib/modules/$stock_ver/build" "$b/stock/mod" >"$res/stock-build.log" 2>&1; then
	cat "$res/stock-build.log" >&2
	fail_case stock-build "module builds for $stock_ver"
elif [ -n "$selftests_ok" ]; then
	say "stock kernel $stock_ver VM (kselftests)"
	vm stock stock "/boot/vmlinuz-$stock_ver" "$b/stock" --modules "$stock_ver" --timeout 1800 &
	pids+=($!)
fi

# The fuzz smoke run goes wherever it waits for nothing: beside a kernel
# build still running, else beside the debug guests.
fuzz_done=
if [ -n "$kpid" ] && kill -0 "$kpid" 2>/dev/null; then
	say "fuzz smoke run"
	tap_step fuzz make -s -C tools fuzz-check FUZZ_CHECK_SECONDS=5
	fuzz_done=1
fi

kdbg=
if [ -n "$kpid" ]; then
	say "waiting for the debug kernel"
	if wait "$kpid"; then
		kdbg=$(cat "$res/debug-kernel.path")
	else
		tail -n 30 "$res/debug-kernel.log" >&2
		fail_case debug-kernel "debug kernel builds"
	fi
fi
run_debug=
if [ -n "$kdbg" ] && [ -n "$selftests_ok" ]; then
	say "modules for the debug kernel"
	scripts/build-module.sh "$kdbg/obj" "$b/debug/mod" >"$res/debug-build.log" 2>&1 &
	p1=$!
	scripts/build-module.sh "$kdbg/obj" "$b/debug/mod-kunit" kunit >"$res/debug-kunit-build.log" 2>&1
	r2=$?
	if wait $p1 && [ $r2 = 0 ]; then
		run_debug=1
	else
		cat "$res/debug-build.log" "$res/debug-kunit-build.log" >&2
		fail_case debug-build "module builds for the debug kernel"
	fi
fi

# The debug kernel's kselftests are shared by two guests (a guest keeps
# about one core busy): longest first, each to the guest with less work.
# The weights are seconds measured on a debug guest (one that had a core
# to itself); a test not listed counts as 30.
declare -A weight=(
	[procedures_test]=119 [traffic_test]=64 [cpnsctl_test]=64
	[continuity_test]=41 [agent_test]=40 [transport_test]=27
	[netlink_test]=17 [socket_test]=6 [module_test]=6
)
tests=()
for t in build/selftests/cpns/* selftests/cpns/*.sh; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$(basename "$t"); n=${n%.sh}
	tests+=("${weight[$n]:-30} $n")
done
mapfile -t tests < <(printf '%s\n' "${tests[@]}" | sort -k1,1nr -k2)
# The first guest also runs the KUnit suites and the boot scan.
half1=() half2=() w1=31 w2=0
for t in "${tests[@]}"; do
	if [ $w1 -le $w2 ]; then half1+=("${t#* }"); w1=$((w1 + ${t%% *}))
	else half2+=("${t#* }"); w2=$((w2 + ${t%% *})); fi
done

if [ -n "$run_debug" ]; then
	say "debug kernel VMs (KUnit, kselftests, kmemleak): ${half1[*]} | ${half2[*]}"
	vm debug debug "$kdbg/bzImage" "$b/debug" --timeout 2400 --mem 2048 -- "${half1[@]}" &
	pids+=($!)
	if [ ${#half2[@]} -gt 0 ]; then
		vm debug2 debug-nokunit "$kdbg/bzImage" "$b/debug" --timeout 2400 --mem 2048 -- "${half2[@]}" &
		pids+=($!)
	fi
fi
if [ -z "$fuzz_done" ]; then
	say "fuzz smoke run"
	tap_step fuzz make -s -C tools fuzz-check FUZZ_CHECK_SECONDS=5
fi
for p in "${pids[@]}"; do wait "$p"; done
for name in stock debug debug2; do
	[ -f "$res/vm-$name.log" ] && cat "$res/vm-$name.log" >&2
	[ -f "$b/vm-$name/vm.tap" ] || continue
	taps+=("$b/vm-$name/vm.tap")
	for f in "$b/vm-$name"/selftests/*.tap "$b/vm-$name"/kmemleak.tap "$b/vm-$name"/kunit.log; do
		[ -f "$f" ] && taps+=("$f")
	done
done

say "done"
tools/testing/tap-count.py "${taps[@]}"
