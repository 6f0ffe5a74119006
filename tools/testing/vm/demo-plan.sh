#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of `make demo` (see scripts/demo.sh).
#
#   demo-plan.sh KO TOOLS
#
# Writes demo.txt in the current directory (the VM's output share).
# run.sh starts plans with sh; this one wants bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
ko=$1 t=$2
out=$(pwd)/demo.txt
exec >"$out" 2>&1	# scripts/demo.sh prints it
S=5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e01
GW=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a02
work=$(mktemp -d /tmp/cpns-demo.XXXXXX)
step() { printf '\n==== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# shellcheck disable=SC2046
modprobe -a $(modinfo -F depends "$ko" | tr , ' ') veth 2>/dev/null
insmod "$ko" || exit 1
ip netns add server
ip netns add gw
ip link add vs netns server type veth peer name vg netns gw
ip -n server addr add 10.80.0.1/24 dev vs
ip -n gw addr add 10.80.0.2/24 dev vg
for n in server gw; do ip -n $n link set lo up; done
ip -n server link set vs up
ip -n gw link set vg up

step "tcpdump on the gw side of the link (UDP 7870)"
ip netns exec gw tcpdump -i vg -n -X -w "$work/cap.pcap" udp port 7870 2>/dev/null &
tcpdump_pid=$!
sleep 1

step "server: a user with a password (read from stdin, never argv)"
printf 'correct horse battery\n' >"$work/pw"; chmod 600 "$work/pw"
run "$t/cpnsd" -n server -s "$work/srv" user add alice password-file - <"$work/pw"
run "$t/cpnsd" -n server -s "$work/srv" user list

step "server: cpnsd -i $S --log-auth (procedures A and B on port 1, every outcome logged)"
"$t/cpnsd" -n server -s "$work/srv" -i "$S" -e --log-auth 2>"$work/cpnsd.log" &
srv=$!
for _ in $(seq 100); do grep -q serving "$work/cpnsd.log" && break; sleep 0.1; done
cat "$work/cpnsd.log"

step "gw: procedure A (enrolment)"
run "$t/cpnsctl" -n gw enroll server "$S" endpoint 10.80.0.1 user alice \
	password-file "$work/pw" local "$GW" state-dir "$work/gw"
run ls -l "$work/gw"
run "$t/cpnsd" -n server -s "$work/srv" entity list

step "gw: procedure B (connect)"
run "$t/cpnsctl" -n gw connect server "$S" state-dir "$work/gw"

step "data: gw -> server and server -> gw over AF_CPNS datagram sockets"
"$t/cpns-dgram" -n server recv "$S:5000" 10 &
p=$!; sleep 0.5
run "$t/cpns-dgram" -n gw send "$GW" "$S:5000" "secret message from the gateway"
wait $p
"$t/cpns-dgram" -n gw recv "$GW:5000" 10 &
p=$!; sleep 0.5
run "$t/cpns-dgram" -n server send "$S" "$GW:5000" "secret reply from the server"
wait $p

step "sessions"
run "$t/cpnsctl" -n gw -d session show
run "$t/cpnsctl" -n server -d session show
run "$t/cpnsctl" -n server peer show

step "server log (one line per handshake with --log-auth) and the registry's audit log"
kill $srv; wait $srv
cat "$work/cpnsd.log"
run "$t/cpnsd" -n server -s "$work/srv" audit list

step "on the wire: the records carrying the data (the plaintext does not appear)"
sleep 1
kill $tcpdump_pid; wait $tcpdump_pid 2>/dev/null
tcpdump -n -r "$work/cap.pcap" 2>/dev/null | tail -n 8
tcpdump -n -X -r "$work/cap.pcap" 2>/dev/null | tail -n 30
if tcpdump -n -A -r "$work/cap.pcap" 2>/dev/null | grep -q "secret"; then
	echo "PLAINTEXT FOUND ON THE WIRE"
	exit 1
fi
echo "\"secret message\" / \"secret reply\": not found in the capture: the payload is ciphertext"
