#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boots the stock Debian kernel in a VM and shows procedures A
# and B end to end in two namespaces, "server" (cpnsd on its SQLite
# registry) and "gw" (cpnsctl enroll / connect), then AF_CPNS datagrams
# both ways, the sessions of both sides and a tcpdump capture of the
# records on the wire. Everything the guest prints is shown here and kept
# in build/demo/demo.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b=$top/build
stock_ver=
for v in $(ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do
	if [ -d "/lib/modules/$v/build" ]; then stock_ver=$v; break; fi
done
[ -n "$stock_ver" ] || { echo "demo: no Debian kernel with headers (make deps)" >&2; exit 1; }
scripts/build-module.sh "/lib/modules/$stock_ver/build" "$b/stock/mod" >&2
make -s -C tools >&2
rm -rf "$b/demo"
tools/testing/vm/run.sh --kernel "/boot/vmlinuz-$stock_ver" --modules "$stock_ver" \
	--name demo --out "$b/demo" --timeout 900 --share "$top" \
	--plan tools/testing/vm/demo-plan.sh -- \
	"$b/stock/mod/kernel/cpns.ko" "$b/tools"
cat "$b/demo/demo.txt"
