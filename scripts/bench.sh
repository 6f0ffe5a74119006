#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: throughput of AF_CPNS next to plain UDP and WireGuard, kernel
# memory per idle session and lookup cost, and procedure B authentications
# per second by cpnsd next to the handshake's crypto alone, measured in two
# VM runs on the stock Debian kernel (TCG: compare the figures with each
# other, not with real hardware). Writes build/bench/results.md and prints it.
#
# Environment: BENCH_SECONDS (per case and round, default 3), BENCH_ROUNDS
# (rounds of the throughput cases, default 4), BENCH_SESSIONS (idle
# sessions for the memory figure, default 100000), BENCH_AUTH_SECONDS
# (each auth case, default 10), BENCH_AUTH_GATEWAYS (default 16),
# BENCH_AUTH_ROUNDS (server runs, each between two crypto-only runs, default 5),
# BENCH_ONLY=throughput|auth (one of the two VM runs; the other's rows
# already in build/bench/bench.jsonl are kept).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b=$top/build
only=${BENCH_ONLY:-}
case $only in
''|throughput|auth) ;;
*) echo "bench: BENCH_ONLY is 'throughput' or 'auth'" >&2; exit 2 ;;
esac
scripts/deps.sh --check 2>/dev/null || scripts/deps.sh
stock_ver=
for v in $(ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do
	if [ -d "/lib/modules/$v/build" ]; then stock_ver=$v; break; fi
done
[ -n "$stock_ver" ] || { echo "bench: no Debian kernel with headers (make deps)" >&2; exit 1; }
scripts/build-module.sh "/lib/modules/$stock_ver/build" "$b/stock/mod" >&2
make -s -C tools >&2
make -s -C tools/bench >&2
mkdir -p "$b/bench"
touch "$b/bench/bench.jsonl"
if [ "$only" != auth ]; then
	# bench-plan.sh rewrites bench.jsonl: keep the auth rows
	grep '"case": *"auth-' "$b/bench/bench.jsonl" >"$b/bench/auth-rows.jsonl" || true
	tools/testing/vm/run.sh --kernel "/boot/vmlinuz-$stock_ver" --modules "$stock_ver" \
		--name bench --out "$b/bench" --timeout 3600 --mem 4096 --share "$top" \
		--env "BENCH_SECONDS=${BENCH_SECONDS:-3}" --env "BENCH_SESSIONS=${BENCH_SESSIONS:-100000}" \
		--env "BENCH_ROUNDS=${BENCH_ROUNDS:-4}" \
		--plan tools/testing/vm/bench-plan.sh -- \
		"$b/stock/mod/kernel/cpns.ko" "$b/tools/cpnsctl" "$b/bench/cpns_bench"
	cat "$b/bench/auth-rows.jsonl" >>"$b/bench/bench.jsonl"
	rm -f "$b/bench/auth-rows.jsonl"
fi
if [ "$only" != throughput ]; then
	tools/testing/vm/run.sh --kernel "/boot/vmlinuz-$stock_ver" --modules "$stock_ver" \
		--name bench-auth --out "$b/bench-auth" --timeout 1800 --mem 2048 --share "$top" \
		--env "BENCH_AUTH_SECONDS=${BENCH_AUTH_SECONDS:-10}" \
		--env "BENCH_AUTH_GATEWAYS=${BENCH_AUTH_GATEWAYS:-16}" \
		--env "BENCH_AUTH_ROUNDS=${BENCH_AUTH_ROUNDS:-5}" \
		--plan tools/testing/vm/bench-auth-plan.sh -- \
		"$b/stock/mod/kernel/cpns.ko" "$b/tools/cpnsctl" "$b/tools/cpnsd" \
		"$b/bench/auth_bench"
	grep -v '"case": *"auth-' "$b/bench/bench.jsonl" >"$b/bench/bench.jsonl.new" || true
	cat "$b/bench-auth/auth.jsonl" >>"$b/bench/bench.jsonl.new"
	mv "$b/bench/bench.jsonl.new" "$b/bench/bench.jsonl"
fi
python3 tools/bench/report.py "$b/bench/bench.jsonl" | tee "$b/bench/results.md"
