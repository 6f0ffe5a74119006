#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark `make bench` runs inside the VM (see scripts/bench.sh).
#
#   bench-plan.sh KO CPNSCTL BENCH
#
# Two namespaces a and b over veth. At 64, 512 and 1400-byte payloads, a
# sends to b through plain UDP, through a WireGuard tunnel and through
# AF_CPNS with each suite (a session per suite, between two pairs of
# entities), taking the AF_CPNS paths and plain UDP in turns of 200 ms
# until each had BENCH_SECONDS (default 3), then the AF_CPNS paths and
# WireGuard, in BENCH_ROUNDS (default 4) rounds; b counts what it receives
# on each. Then a holds 10 sessions, and so does a second
# pair of namespaces, c and d over their own veth; BENCH_SESSIONS (default
# 100000) idle ChaCha20-Poly1305 sessions are installed in a: kernel memory
# per session. Lookup cost: the 64-byte AES-256-GCM path from a to b (all
# the sessions) and from c to d (10) in turns in one run, in BENCH_ROUNDS
# rounds. Then the same number of idle AES-256-GCM sessions in a, for the
# memory of that suite.
# Results: one JSON object per line in bench.jsonl (the rows report.py
# reads: the ChaCha20-Poly1305 "memory" row); every memory figure, per
# suite and per slab cache, in bench-memory.jsonl.
set -u
ko=$1 ctl=$2 bench=$3
secs=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-4}
nsess=${BENCH_SESSIONS:-100000}
out=$(pwd)
res=$out/bench.jsonl
memres=$out/bench-memory.jsonl
: >"$res"
: >"$memres"
A=0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a
B=0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b
A2=1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a
B2=1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b
C=2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c
D=2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d

# What cpns.ko links against, and the modules a booted system loads for
# this CPU's features (udev does it from the CPU's modalias: AES-NI, the
# SIMD ChaCha20 and Poly1305, CLMUL GHASH), as a home gateway would have.
# shellcheck disable=SC2046
modprobe -a $(modinfo -F depends "$ko" | tr , ' ') veth wireguard 2>/dev/null
modprobe -a "$(cat /sys/devices/system/cpu/modalias)" 2>/dev/null
insmod "$ko" || exit 1

# veth_pair NS1 NS2 NET: namespaces NS1 and NS2 over a veth pair (vNS1,
# vNS2) with the addresses NET.1 and NET.2.
veth_pair() {
	ip netns add $1
	ip netns add $2
	ip link add v$1 netns $1 mtu 1600 type veth peer v$2 netns $2 mtu 1600
	ip -n $1 addr add $3.1/24 dev v$1
	ip -n $2 addr add $3.2/24 dev v$2
	for n in $1 $2; do
		ip -n $n link set lo up
		ip -n $n link set v$n up
	done
}
veth_pair a b 10.99.0

# WireGuard between the same namespaces, inner MTU 1500 so that no size
# here fragments.
umask 077
wg genkey >/tmp/wa.key; wg pubkey </tmp/wa.key >/tmp/wa.pub
wg genkey >/tmp/wb.key; wg pubkey </tmp/wb.key >/tmp/wb.pub
ip -n a link add wg0 mtu 1500 type wireguard
ip -n b link add wg0 mtu 1500 type wireguard
ip netns exec a wg set wg0 private-key /tmp/wa.key listen-port 51820 \
	peer "$(cat /tmp/wb.pub)" endpoint 10.99.0.2:51820 allowed-ips 10.98.0.2/32
ip netns exec b wg set wg0 private-key /tmp/wb.key listen-port 51820 \
	peer "$(cat /tmp/wa.pub)" endpoint 10.99.0.1:51820 allowed-ips 10.98.0.1/32
ip -n a addr add 10.98.0.1/24 dev wg0
ip -n b addr add 10.98.0.2/24 dev wg0
ip -n a link set wg0 up
ip -n b link set wg0 up

# AF_CPNS: A in a, B in b, one session (a initiates).
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/tmp/k1; echo >>/tmp/k1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/tmp/k2; echo >>/tmp/k2
for x in "a $A $B 10.99.0.2" "a $A2 $B2 10.99.0.2" "b $B $A 10.99.0.1" "b $B2 $A2 10.99.0.1"; do
	set -- $x
	ip netns exec $1 "$ctl" id add $2 || exit 1
	ip netns exec $1 "$ctl" peer set $3 endpoint $4:7870 || exit 1
done
# cpns_session A B SUITE [NA NB]: a fresh generation between entity A in
# namespace NA (default a) and B in NB (default b)
cpns_session() {
	ip netns exec "${4:-a}" "$ctl" session add local $1 peer $2 generation 1 suite "$3" \
		role initiator tx-secret /tmp/k1 rx-secret /tmp/k2 || exit 1
	ip netns exec "${5:-b}" "$ctl" session add local $2 peer $1 generation 1 suite "$3" \
		role responder tx-secret /tmp/k2 rx-secret /tmp/k1 || exit 1
}
flush() {
	ip netns exec a "$ctl" session flush
	ip netns exec b "$ctl" session flush
}

# run SIZE ROUND CASE RPATH SPATH [CASE RPATH SPATH]...: one cpns_bench
# run over all the paths given, a row per path. The receiver runs in b and
# the sender in a; a path that starts with "ns NAME" has its socket, and
# those of the paths after it, in NAME instead.
run() {
	size=$1 round=$2
	shift 2
	names="" rp="" sp=""
	while [ $# -gt 0 ]; do
		names="$names $1" rp="$rp $2" sp="$sp $3"
		shift 3
	done
	ip netns exec b "$bench" recv $rp >/tmp/r.json &
	rpid=$!
	sleep 1
	ip netns exec a "$bench" send "$size" "$secs" $sp >/tmp/s.json
	wait $rpid
	python3 - "$size" "$round" $names <<'PY' | tee -a "$res"
import json, sys
size, rnd, names = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
r, s = json.load(open('/tmp/r.json')), json.load(open('/tmp/s.json'))
for name, rp, sp in zip(names, r['paths'], s['paths']):
    print(json.dumps({'case': name, 'size': size, 'round': rnd, 'records': rp['records'],
                      'bytes': rp['bytes'], 'sent': sp['sent'], 'errors': sp['errors'],
                      'seconds': sp['seconds']}))
PY
}

# Each round runs the AF_CPNS paths in turns of 200 ms with plain UDP, then
# again with WireGuard: under TCG the guest's speed follows the host's
# load, which moves within seconds, and the paths of a run share it. Not
# all four at once: WireGuard decrypts in workers that go on after its
# turn and take the CPUs from the path after it (its run's rows are
# named .../wg). report.py adds the rounds up for its table
# and checks the targets on the ratios of each round. Every round starts
# on fresh sessions.
round=1
while [ "$round" -le "$rounds" ]; do
	flush
	cpns_session $A $B aes256gcm
	cpns_session $A2 $B2 chacha20poly1305
	for size in 64 512 1400; do
		run $size $round \
			udp "udp 10.99.0.2 9000" "udp 10.99.0.2 9000" \
			cpns-aes256gcm "cpns $B 5000" "cpns $A $B 5000" \
			cpns-chacha20poly1305 "cpns $B2 5000" "cpns $A2 $B2 5000"
		run $size $round \
			wireguard "udp 10.98.0.2 9000" "udp 10.98.0.2 9000" \
			cpns-aes256gcm/wg "cpns $B 5000" "cpns $A $B 5000" \
			cpns-chacha20poly1305/wg "cpns $B2 5000" "cpns $A2 $B2 5000"
	done
	round=$((round + 1))
done

# Lookup cost: the 64-byte AES-256-GCM path with 10 sessions and with
# BENCH_SESSIONS + 10, both at once and in turns in one run (measured
# minutes apart, before and after the memory step, their ratio followed
# the guest's speed: 0.66 to 1.91 x). a gets the idle sessions of the
# memory step; a second pair of namespaces, c and d over their own veth
# with entities C and D, keeps 10 in c. c and d are set up before the
# memory step and do not change during it: the memory figures do not
# count them.
veth_pair c d 10.97.0
for x in "c $C $D 10.97.0.2" "d $D $C 10.97.0.1"; do
	set -- $x
	ip netns exec $1 "$ctl" id add $2 || exit 1
	ip netns exec $1 "$ctl" peer set $3 endpoint $4:7870 || exit 1
done

# Ten sessions (nine idle) in a and in c.
gen_sessions() { # FIRST COUNT SUITE [LOCAL]
	python3 - "$1" "$2" "${4:-$A}" "$3" <<'PY'
import sys
first, count, a, suite = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for i in range(first, first + count):
    print("session add local %s peer 0c%030x generation 1 suite %s "
          "role initiator tx-secret /tmp/k1 rx-secret /tmp/k2" % (a, i, suite))
PY
}
gen_sessions 1 9 chacha20poly1305 >/tmp/s9
gen_sessions 1 9 chacha20poly1305 $C >/tmp/s9c
flush
ip netns exec a "$ctl" -b /tmp/s9 || exit 1
cpns_session $A $B aes256gcm
ip netns exec c "$ctl" -b /tmp/s9c || exit 1
cpns_session $C $D aes256gcm c d

# Kernel memory in KiB that slab, stacks, page tables and vmalloc hold.
kmem() {
	awk '/^(Slab|KernelStack|PageTables|VmallocUsed):/ {s += $2} END {print s}' /proc/meminfo
}
# Bytes each slab cache holds (slabs x pages per slab x page size).
slabs() {
	awk -v pg="$(getconf PAGESIZE)" 'NR > 2 {print $1, $15 * $6 * pg}' /proc/slabinfo
}
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# Memory per idle session of SUITE: slab and page usage before and after
# installing COUNT sessions (FIRST on). Prints the "memory" row.
memory() { # SUITE FIRST COUNT
	settle
	slabs >/tmp/slab0
	m0=$(kmem)
	f0=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	gen_sessions "$2" "$3" "$1" >/tmp/sN
	t0=$(date +%s)
	ip netns exec a "$ctl" -b /tmp/sN || exit 1
	t1=$(date +%s)
	settle
	slabs >/tmp/slab1
	m1=$(kmem)
	f1=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	row=$(printf '{"case":"memory","suite":"%s","sessions":%d,"slab_kib":%d,"avail_kib":%d,"install_seconds":%d' \
		"$1" "$3" $((m1 - m0)) $((f0 - f1)) $((t1 - t0)))
	# Caches that grew by at least half a byte per session, largest first.
	caches=$(awk -v n="$3" 'NR == FNR {b[$1] = $2; next}
		{d = ($2 - b[$1]) / n; if (d >= 0.5) printf "%s %.1f\n", $1, d}' \
		/tmp/slab0 /tmp/slab1 | sort -k2 -rn |
		awk 'BEGIN {printf "{"} {printf "%s\"%s\":%s", (NR > 1 ? "," : ""), $1, $2} END {printf "}"}')
	printf '%s,"bytes_per_session_by_cache":%s}\n' "$row" "$caches" >>"$memres"
	printf '%s}\n' "$row"
}

memory chacha20poly1305 100 "$nsess" | tee -a "$res"
# The lookup rounds: a (all the sessions) and c (10) in turns; report.py
# checks the ratio of each round.
round=1
while [ "$round" -le "$rounds" ]; do
	run 64 "$round" \
		"cpns-aes256gcm-$((nsess + 10))-sessions" "cpns $B 5000" "cpns $A $B 5000" \
		cpns-aes256gcm-10-sessions "ns d cpns $D 5000" "ns c cpns $C $D 5000"
	round=$((round + 1))
done
ip netns exec a "$ctl" session flush
# Erased generations are freed after a grace period, from a workqueue.
sleep 10
memory aes256gcm 200000 "$nsess"
for n in a b c d; do ip netns exec $n "$ctl" session flush; done
cat "$memres"
exit 0
