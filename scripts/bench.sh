#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: throughput of AF_CPNS next to plain UDP and WireGuard, kernel
# memory per idle session and lookup cost, measured in one VM run on the
# stock Debian kernel (TCG: compare the figures with each other, not with
# real hardware). Writes build/bench/results.md and prints it.
#
# Environment: BENCH_SECONDS (per case, default 5), BENCH_SESSIONS (idle
# sessions for the memory figure, default 100000).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b=$top/build
scripts/deps.sh --check 2>/dev/null || scripts/deps.sh
stock_ver=
for v in $(ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do
	if [ -d "/lib/modules/$v/build" ]; then stock_ver=$v; break; fi
done
[ -n "$stock_ver" ] || { echo "bench: no Debian kernel with headers (make deps)" >&2; exit 1; }
scripts/build-module.sh "/lib/modules/$stock_ver/build" "$b/stock/mod" >&2
make -s -C tools >&2
make -s -C tools/bench >&2
tools/testing/vm/run.sh --kernel "/boot/vmlinuz-$stock_ver" --modules "$stock_ver" \
	--name bench --out "$b/bench" --timeout 3600 --mem 4096 --share "$top" \
	--env "BENCH_SECONDS=${BENCH_SECONDS:-5}" --env "BENCH_SESSIONS=${BENCH_SESSIONS:-100000}" \
	--plan tools/testing/vm/bench-plan.sh -- \
	"$b/stock/mod/kernel/cpns.ko" "$b/tools/cpnsctl" "$b/bench/cpns_bench"
python3 tools/bench/report.py "$b/bench/bench.jsonl" | tee "$b/bench/results.md"
