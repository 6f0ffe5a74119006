#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The procedure B benchmark of `make bench` inside the VM (scripts/bench.sh).
#
#   bench-auth-plan.sh KO CPNSCTL CPNSD AUTH_BENCH
#
# cpnsd in namespace srv (registry on the guest's tmpfs, one audit row per
# handshake in the registry, its log to a busybox syslogd: as by default,
# no line for a success),
# BENCH_AUTH_GATEWAYS (default 16) gateways in namespace gw, each enrolled
# once with procedure A (cpnsctl enroll, 8 per user account). Then:
#  - auth-crypto: both sides of H(EUKey) in one process, no I/O
#    (auth_bench crypto), for BENCH_AUTH_SECONDS (default 10), before the
#    server run and again after it (auth-crypto-after): on a shared host
#    the speed of a TCG guest drifts, and the ratio uses their mean;
#  - auth-server: every gateway runs procedure B against cpnsd over
#    AF_CPNS back to back for BENCH_AUTH_SECONDS (auth_bench run, after a
#    warm-up in which each authenticates once), with cpnsd's CPU time over
#    the timed run from /proc;
#  - auth-crypto-2: auth-crypto in two processes at once, per process: the
#    server run keeps both vCPUs busy (cpnsd and the gateways), which under
#    TCG slows each of them down, so the CPU cost of cpnsd per
#    authentication is compared with this figure;
#  BENCH_AUTH_ROUNDS (default 5) server runs, each between two of the
#  auth-crypto-2 runs (round 0 is the first of these), back to back.
# All gateways share one source address, which section 11 limits to 20
# ConnectRequests per second: cpnsd runs with --m1-rate (BENCH_AUTH_M1_RATE,
# default 100000) and the result says so. The other limits stay at their
# defaults (16 gateways fit the 16 half-open exchanges per address).
# Results: one JSON object per line in auth.jsonl.
set -u
ko=$1 ctl=$2 cpnsd=$3 ab=$4
secs=${BENCH_AUTH_SECONDS:-10}
rounds=${BENCH_AUTH_ROUNDS:-5}
ngw=${BENCH_AUTH_GATEWAYS:-16}
m1_rate=${BENCH_AUTH_M1_RATE:-100000}
out=$(pwd)
res=$out/auth.jsonl
: >"$res"
S=5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e01
st=/tmp/srv

# What cpns.ko links against, and the modules a booted system loads for
# this CPU's features (udev does it from the CPU's modalias: AES-NI for
# the kernel's AES-256-GCM, as OpenSSL has it in userspace).
# shellcheck disable=SC2046
modprobe -a $(modinfo -F depends "$ko" | tr , ' ') veth 2>/dev/null
modprobe -a "$(cat /sys/devices/system/cpu/modalias)" 2>/dev/null
[ -d /sys/module/cpns ] || insmod "$ko" || exit 1
ip netns add srv
ip netns add gw
ip link add vs netns srv type veth peer vg netns gw
ip -n srv addr add 10.77.0.1/24 dev vs
ip -n gw addr add 10.77.0.2/24 dev vg
for n in srv gw; do ip -n $n link set lo up; done
ip -n srv link set vs up
ip -n gw link set vg up

busybox syslogd -n -O /tmp/messages &
slog=$!
sleep 0.5

mkdir -p $st && chmod 700 $st
umask 077
printf 'bench password 1\n' >/tmp/pw
u=0
while [ $u -le $(((ngw - 1) / 8)) ]; do
	"$cpnsd" -n srv -s $st user add bench$u password-file /tmp/pw >/dev/null 2>&1 || exit 1
	u=$((u + 1))
done
"$cpnsd" -n srv -s $st -i $S --m1-rate "$m1_rate" &
srv=$!
for _ in $(seq 100); do
	grep -q "serving" /tmp/messages 2>/dev/null && break
	sleep 0.1
done

# Procedure A once per gateway, two at a time (scrypt on both sides).
t0=$(date +%s)
enrol() { # INDEX
	"$ctl" -n gw enroll server $S endpoint 10.77.0.1 user bench$(($1 / 8)) \
		password-file /tmp/pw state-dir /tmp/gw$1 \
		local "$(printf '6a6a6a6a6a6a6a6a6a6a6a6a6a6a%04x' "$1")" >/dev/null
}
i=0 dirs=
while [ $i -lt "$ngw" ]; do
	enrol $i &
	p1=$!
	j=$((i + 1))
	if [ $j -lt "$ngw" ]; then enrol $j || echo "bench-auth: enrolment $j failed"; fi
	wait $p1 || echo "bench-auth: enrolment $i failed"
	i=$((i + 2))
done
for i in $(seq 0 $((ngw - 1))); do
	[ -e /tmp/gw$i/server-$S.conf ] && dirs="$dirs /tmp/gw$i"
done
echo "bench-auth: $(echo $dirs | wc -w) gateways enrolled in $(($(date +%s) - t0)) s"

"$ab" crypto "$secs" "$ngw" | tee -a "$res"

# The server runs (BENCH_AUTH_ROUNDS, default 5) and the two-process
# crypto runs in turns, beginning and ending with a crypto run: the guest's
# speed follows the host's load, and report.py compares each server run
# with the mean of the crypto runs just before and just after it, not with
# the whole benchmark.
server_run() { # ROUND
	a0=$("$cpnsd" -n srv -s $st audit auth)
	# shellcheck disable=SC2086
	"$ab" run -n gw -p "$srv" $S "$secs" $dirs >/tmp/run.json || exit 1
	a1=$("$cpnsd" -n srv -s $st audit auth)
	python3 - /tmp/run.json "$((a1 - a0))" "$m1_rate" "$1" <<'PY' | tee -a "$res"
import json, sys
r = json.load(open(sys.argv[1]))
r['server_auth_rows_with_warmup'] = int(sys.argv[2])
r['round'] = int(sys.argv[4])
r['config'] = ('cpnsd --m1-rate %s (section 11: 20/s per source address; '
               'all gateways share one address), other limits at their defaults; '
               'registry on tmpfs; one audit row per handshake in the registry, no log line '
               'for a success (the default; --log-auth adds one); '
               'clients install no generation' % sys.argv[3])
print(json.dumps(r))
PY
}

# The same crypto with both vCPUs busy (the server run keeps both busy:
# cpnsd on one, the gateways on the other): per process.
crypto2_run() { # ROUND
	"$ab" crypto "$secs" "$ngw" >/tmp/c1.json &
	c1=$!
	"$ab" crypto "$secs" "$ngw" >/tmp/c2.json
	wait $c1
	python3 - /tmp/c1.json /tmp/c2.json "$1" <<'PY' | tee -a "$res"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a['case'] = 'auth-crypto-2'
a['processes'] = 2
a['round'] = int(sys.argv[3])
a['per_s'] = (a['per_s'] + b['per_s']) / 2
a['initiator_us'] = (a['initiator_us'] + b['initiator_us']) / 2
a['responder_us'] = (a['responder_us'] + b['responder_us']) / 2
print(json.dumps(a))
PY
}

crypto2_run 0
round=1
while [ "$round" -le "$rounds" ]; do
	server_run $round
	crypto2_run $round
	round=$((round + 1))
done

"$ab" crypto "$secs" "$ngw" | sed 's/"auth-crypto"/"auth-crypto-after"/' | tee -a "$res"

kill "$srv"
wait "$srv"
echo "bench-auth: procedure B audit rows: $("$cpnsd" -n srv -s $st audit auth) auth," \
	"$("$cpnsd" -n srv -s $st audit auth-failure) auth-failure"
kill "$slog"
cp /tmp/messages "$out/messages.log"
exit 0
