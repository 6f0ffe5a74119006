#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Procedures A and B end to end: cpnsd (S, SQLite registry) in one network
# namespace, the GW (cpnsctl enroll / connect) in another, over veth.
# Enrolment, wrong password, unknown user, connect and data both ways,
# kill -9 of S during an enrolment, S restart and reconnect; the
# re-enrolment rules of PROTOCOL.md 6.5 (a new kid revokes the old EUKey,
# a GW bound to one account is refused to another, a revoked GW cannot
# authenticate) and a kill -9 of S in the middle of procedure B; a GW
# revoked in the middle of procedure B gets no session, nor does one whose
# install S's kernel refuses.
#
# Environment: CPNS_KO, CPNS_REPO (tools in $CPNS_REPO/build/tools).
set -u
here=$(cd "$(dirname "$0")" && pwd)
CPNS_REPO=${CPNS_REPO:-$(dirname "$(dirname "$here")")}
T=$CPNS_REPO/build/tools
SNS=cpns-srv-$$
GNS=cpns-gw-$$
tmp=$(mktemp -d /tmp/cpns-proc.XXXXXX)
S=5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e01
GW=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a02
GW2=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a03
srv_pid=

cleanup() {
	[ -n "$srv_pid" ] && kill -9 "$srv_pid" 2>/dev/null
	ip netns del "$SNS" 2>/dev/null
	ip netns del "$GNS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
diag() { sed 's/^/# /' "$@"; }

echo "TAP version 13"
echo "1..24"

if [ ! -d /sys/module/cpns ]; then
	insmod "${CPNS_KO:?}" || { echo "Bail out! insmod failed"; exit 1; }
fi
ip netns add "$SNS" && ip netns add "$GNS" &&
ip link add vs netns "$SNS" type veth peer name vg netns "$GNS" &&
ip -n "$SNS" addr add 10.79.0.1/24 dev vs && ip -n "$SNS" link set vs up &&
ip -n "$GNS" addr add 10.79.0.2/24 dev vg && ip -n "$GNS" link set vg up &&
ip -n "$SNS" link set lo up && ip -n "$GNS" link set lo up ||
	{ echo "Bail out! namespaces"; exit 1; }

sd() { "$T/cpnsd" -n "$SNS" -s "$tmp/srv" "$@"; }
# true once the audit log has at least MIN rows of EVENT: cpnsd writes
# procedure B's outcomes when its socket has nothing more to read
audited() { # EVENT MIN
	for _ in $(seq 50); do
		[ "$(sd audit "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
gw() { "$T/cpnsctl" -n "$GNS" "$@"; }
start_srv() {
	# the binary itself, so that $! is cpnsd (kill -9 below)
	"$T/cpnsd" -n "$SNS" -s "$tmp/srv" -i "$S" -e --log-auth >>"$tmp/cpnsd.log" 2>&1 &
	srv_pid=$!
	# serving once port 1 is bound: the log line says so
	for _ in $(seq 100); do
		grep -q "serving" "$tmp/cpnsd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# the registry's view of an entity: "kid N" when it has an active EUKey
active_kid() { sd entity list 2>/dev/null | grep "^$1" | grep -o 'kid [0-9][0-9]*'; }
# the entity listing as JSON (cpnsd -j) put back into the text lines, to
# compare with the text listing (case 22): FILE
entities_json_as_text() {
	sd -j entity list 2>&1 | jq -r '.[] | "\(.id) \(.kind) owner \(.owner // "-")" +
		(if .kid then " kid \(.kid) expiry \(.expiry)" else " kid none" end) +
		(if .pending then " pending" else "" end)' >"$1" 2>&1
}

mkdir -p "$tmp/srv" && chmod 700 "$tmp/srv"
printf 'correct horse battery\n' >"$tmp/pw"
printf 'wrong horse battery\n' >"$tmp/bad"
chmod 600 "$tmp/pw" "$tmp/bad"

# 1: user with a password from a file (never argv)
sd user add alice password-file "$tmp/pw" >"$tmp/out" 2>&1 &&
	sd user add carol password-file - <"$tmp/pw" >>"$tmp/out" 2>&1
check "cpnsd user add with password-file / stdin" [ $? = 0 ]
start_srv || { diag "$tmp/cpnsd.log"; echo "Bail out! cpnsd did not start"; exit 1; }

# 2: wrong password: exit 3, nothing stored on either side, audited
gw enroll server "$S" endpoint 10.79.0.1 user alice password-file "$tmp/bad" \
	state-dir "$tmp/gw" local "$GW" >"$tmp/out" 2>"$tmp/err.wrong"
rc=$?
sleep 1
fails_audited=$(sd audit proca-failure)
if [ $rc = 3 ] && [ ! -e "$tmp/gw/server-$S.conf" ] && [ -z "$(active_kid $GW)" ] &&
	[ "${fails_audited:-0}" -ge 1 ]; then
	ok "wrong password: exit 3, no EUKey stored on either side, attempt audited"
else
	nok "wrong password: exit 3, no EUKey stored on either side, attempt audited"
	echo "# rc=$rc audit=$fails_audited"; diag "$tmp/err.wrong"
fi

# 3: unknown user: the same exit and the same message
gw enroll server "$S" endpoint 10.79.0.1 user mallory password-file "$tmp/pw" \
	state-dir "$tmp/gw" local "$GW" >"$tmp/out" 2>"$tmp/err.unknown"
rc=$?
if [ $rc = 3 ] && cmp -s "$tmp/err.wrong" "$tmp/err.unknown"; then
	ok "unknown user indistinguishable from a wrong password"
else
	nok "unknown user indistinguishable from a wrong password"
	echo "# rc=$rc"; diag "$tmp/err.wrong" "$tmp/err.unknown"
fi

# 4: enrolment
gw enroll server "$S" endpoint 10.79.0.1 user alice password-file "$tmp/pw" \
	state-dir "$tmp/gw" local "$GW" >"$tmp/out" 2>"$tmp/err"
rc=$?
mode=$(stat -c %a "$tmp/gw/server-$S.conf" 2>/dev/null)
if [ $rc = 0 ] && [ "$mode" = 600 ] && [ -n "$(active_kid $GW)" ]; then
	ok "enrolment: EUKey stored 0600, active at S ($(active_kid $GW))"
	# for case 22: an entity with an active key
	sd entity list >"$tmp/ent1.txt" 2>&1
	entities_json_as_text "$tmp/ent1.json.txt"
else
	nok "enrolment: EUKey stored 0600, active at S"
	echo "# rc=$rc mode=$mode"; diag "$tmp/err"; diag "$tmp/cpnsd.log"
fi

# 5: connect
gw connect server "$S" state-dir "$tmp/gw" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "connect: exit 0" [ $rc = 0 ] || { diag "$tmp/err"; diag "$tmp/cpnsd.log"; }

# 5b: with --log-auth, the success has its log line (as its audit row)
logged_auth() {
	for _ in $(seq 50); do
		grep -q "procedure B: gw $GW from .*: generation [0-9]* suite [12] kid [0-9]* installed" \
			"$tmp/cpnsd.log" && return 0
		sleep 0.1
	done
	return 1
}
if logged_auth; then
	ok "cpnsd --log-auth: the authentication logged"
else
	nok "cpnsd --log-auth: the authentication logged"; diag "$tmp/cpnsd.log"
fi

# 6: sessions on both sides
gs=$(gw session show local "$GW" peer "$S")
ss=$("$T/cpnsctl" -n "$SNS" session show local "$S" peer "$GW")
if echo "$gs" | grep -q "role initiator" && echo "$ss" | grep -q "role responder"; then
	ok "session installed on both sides"
else
	nok "session installed on both sides"; echo "# gw: $gs"; echo "# srv: $ss"
fi
check "procedure B audited: an auth row with the GW, its address and generation, no auth-failure" \
	eval 'audited auth 1 && [ "$(sd audit auth-failure)" = 0 ] &&
		sd audit list auth | grep -q "auth entity $GW from 10\.79\.0\.2:[0-9]* : generation 1 "'

# data both ways: 7 GW -> S, 8 S -> GW (S transmits once confirmed)
xfer() { # FROM_NS FROM_ID TO_NS TO_ID TEXT
	"$T/cpns-dgram" -n "$3" recv "$4:5000" 15 >"$tmp/rx" 2>&1 &
	local p=$!
	# until the receiver has it: it may not be bound yet (slow guest)
	for _ in 1 2 3 4 5; do
		sleep 1
		"$T/cpns-dgram" -n "$1" send "$2" "$4:5000" "$5" 2>&1 || { kill $p; return 1; }
		kill -0 $p 2>/dev/null || break
		sleep 1
		kill -0 $p 2>/dev/null || break
	done
	wait $p && grep -q " $5\$" "$tmp/rx"
}
check "data GW -> S" xfer "$GNS" "$GW" "$SNS" "$S" hello-from-gw || diag "$tmp/rx"
check "data S -> GW" xfer "$SNS" "$S" "$GNS" "$GW" hello-from-server || diag "$tmp/rx"

# 9: kill -9 of S during an enrolment. The GW's KeyConfirm (a 101-byte
# record) is dropped on the way, so S holds a pending EUKey when killed.
if modprobe nf_tables 2>/dev/null; ip netns exec "$GNS" nft -f - <<-EOF 2>"$tmp/nft"
	table inet t { chain o { type filter hook output priority 0;
		udp dport 7870 udp length 109 drop; }; }
EOF
then
	gw enroll server "$S" endpoint 10.79.0.1 user carol password-file "$tmp/pw" \
		state-dir "$tmp/gw2" local "$GW2" >"$tmp/out" 2>"$tmp/err2" &
	enr=$!
	for _ in $(seq 200); do
		sd entity list 2>/dev/null | grep "^$GW2" | grep -q pending && break
		sleep 0.2
	done
	kill -9 "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
	start_srv
	wait $enr; rc=$?
	ip netns exec "$GNS" nft delete table inet t
	if [ $rc = 4 ] && [ -z "$(active_kid $GW2)" ] && [ ! -e "$tmp/gw2/server-$S.conf" ]; then
		ok "kill -9 of S during enrolment: no active EUKey, GW timed out (exit 4), nothing stored"
	else
		nok "kill -9 of S during enrolment: no active EUKey, GW timed out, nothing stored"
		echo "# rc=$rc"; diag "$tmp/err2"; sd entity list | diag
	fi
else
	diag "$tmp/nft"
	kill -9 "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
	start_srv
	nok "kill -9 of S during enrolment: nftables is needed to hold back KeyConfirm (make deps)"
fi

# 10-12: S restarted: reconnect, data both ways on the new generation
gw connect server "$S" state-dir "$tmp/gw" >"$tmp/out" 2>"$tmp/err"
check "reconnect after a server restart" [ $? = 0 ] || { diag "$tmp/err"; diag "$tmp/cpnsd.log"; }
check "data GW -> S after reconnect" xfer "$GNS" "$GW" "$SNS" "$S" again-from-gw || diag "$tmp/rx"
check "data S -> GW after reconnect" xfer "$SNS" "$S" "$GNS" "$GW" again-from-server || diag "$tmp/rx"

# the registry's line of an entity
entity() { sd entity list 2>/dev/null | grep "^$1"; }
# procedure B from a GW that holds no generation (2.10: at most two)
connect() { # STATE-DIR
	gw session flush >/dev/null 2>&1
	gw connect server "$S" state-dir "$1" >"$tmp/out" 2>"$tmp/err"
}

# 13: re-enrolment of an active GW by its own account (6.5): a new kid,
# the old EUKey revoked once the new one is confirmed
mkdir -p "$tmp/gw-old" && chmod 700 "$tmp/gw-old"
cp -p "$tmp/gw/server-$S.conf" "$tmp/gw-old/"
kid1=$(active_kid "$GW")
gw enroll server "$S" endpoint 10.79.0.1 user alice password-file "$tmp/pw" \
	state-dir "$tmp/gw" local "$GW" >"$tmp/out" 2>"$tmp/err"
rc=$?
kid2=$(active_kid "$GW")
if [ $rc = 0 ] && [ "${kid2#kid }" = $((${kid1#kid } + 1)) ] &&
	! entity "$GW" | grep -q pending; then
	ok "re-enrolment of an active GW: $kid1 -> $kid2, nothing pending"
else
	nok "re-enrolment of an active GW: new kid, nothing pending"
	echo "# rc=$rc $kid1 -> $kid2"; diag "$tmp/err"; entity "$GW" | diag
fi

# 14: the old EUKey no longer authenticates (UNKNOWN_KEY), the new one does
fails0=$(sd audit auth-failure)
connect "$tmp/gw-old"; rc_old=$?
cp "$tmp/err" "$tmp/err.old"
connect "$tmp/gw"; rc_new=$?
if [ $rc_old = 3 ] && grep -q UNKNOWN_KEY "$tmp/err.old" && [ $rc_new = 0 ] &&
	audited auth-failure $((fails0 + 1)); then
	ok "after re-enrolment: old EUKey refused (exit 3, UNKNOWN_KEY, audited), new one connects"
else
	nok "after re-enrolment: old EUKey refused (exit 3, UNKNOWN_KEY, audited), new one connects"
	echo "# old rc=$rc_old new rc=$rc_new auth-failure rows $fails0 -> $(sd audit auth-failure)"
	diag "$tmp/err.old" "$tmp/err"
fi

# 15: the GW is bound to alice: enrolling it for carol is refused (exit 3)
# and changes nothing
before=$(entity "$GW")
gw enroll server "$S" endpoint 10.79.0.1 user carol password-file "$tmp/pw" \
	state-dir "$tmp/gw-carol" local "$GW" >"$tmp/out" 2>"$tmp/err"
rc=$?
after=$(entity "$GW")
if [ $rc = 3 ] && [ "$before" = "$after" ] && echo "$after" | grep -q "owner alice" &&
	[ ! -e "$tmp/gw-carol/server-$S.conf" ]; then
	ok "GW of alice enrolled for carol: refused (exit 3), registry unchanged"
else
	nok "GW of alice enrolled for carol: refused (exit 3), registry unchanged"
	echo "# rc=$rc before: $before"; echo "# after: $after"; diag "$tmp/err"
fi

# 16: kill -9 of S in the middle of procedure B: S's m2 (AuthRequest,
# msg_type 2 right after the 52-byte record header) is held back, so S
# holds a half-open exchange when it is killed and restarted. The GW
# retransmits m1 (4.7) and the new S answers it as a new exchange: the
# outcome is a session on both sides, or a clean failure (exit 3/4) with
# no generation installed; the registry is unchanged and the next connect
# works. (Holding back m3 instead gives exit 4 after the GW's 23 s of
# retransmissions, which is too slow for this file.)
gens() { gw session show local "$GW" peer "$S" 2>/dev/null | grep -c generation; }
if ip netns exec "$SNS" nft -f - <<-EOF 2>"$tmp/nft"
	table inet t { chain o { type filter hook output priority 0;
		udp sport 7870 @th,480,8 2 drop; }; }
EOF
then
	gw session flush >/dev/null 2>&1
	gw connect server "$S" state-dir "$tmp/gw" >"$tmp/out" 2>"$tmp/err.b" &
	con=$!
	sleep 1
	kill -9 "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
	ip netns exec "$SNS" nft delete table inet t
	start_srv
	wait $con; rc=$?
	g=$(gens)
	kid_now=$(active_kid "$GW")
	if { { [ $rc = 0 ] && [ "$g" -ge 1 ]; } ||
	     { { [ $rc = 3 ] || [ $rc = 4 ]; } && [ "$g" = 0 ]; }; } &&
	   [ "$kid_now" = "$kid2" ] && connect "$tmp/gw"; then
		ok "kill -9 of S during procedure B: exit $rc, GW and registry consistent, reconnect works"
	else
		nok "kill -9 of S during procedure B: clean outcome and recovery"
		echo "# rc=$rc gens=$g $kid2 -> $kid_now"; diag "$tmp/err.b" "$tmp/err"
	fi
else
	diag "$tmp/nft"
	nok "kill -9 of S during procedure B: nftables is needed to hold back m2 (make deps)"
fi

# 17: a revoked GW loses its session with S at once and cannot
# authenticate again (NOT_AUTHORIZED)
s_gens() { "$T/cpnsctl" -n "$SNS" session show local "$S" peer "$GW" 2>/dev/null | grep -c generation; }
g_before=$(s_gens)
sd entity revoke "$GW" >"$tmp/out" 2>&1; rc_rev=$?
g_after=$(s_gens)
connect "$tmp/gw"; rc=$?
if [ $rc_rev = 0 ] && [ "$g_before" -ge 1 ] && [ "$g_after" = 0 ] &&
	[ $rc = 3 ] && grep -q NOT_AUTHORIZED "$tmp/err" &&
	entity "$GW" | grep -q "kid none" && [ "$(sd audit revoke)" -ge 1 ]; then
	ok "revoked GW: its session on S removed, connect refused (exit 3, NOT_AUTHORIZED), no active EUKey, audited"
else
	nok "revoked GW: its session on S removed, connect refused (exit 3, NOT_AUTHORIZED), no active EUKey, audited"
	echo "# revoke rc=$rc_rev generations on S $g_before -> $g_after; connect rc=$rc"
	diag "$tmp/out" "$tmp/err"; entity "$GW" | diag
fi

# 19: the failures of one address take at most 10 audit rows a minute;
# the others are logged as not audited. 22 refused connects (a GW may
# send its ConnectRequest more than once); a run of T seconds spans at
# most T / 60 + 2 windows of a minute.
failed_lines() { grep -c "procedure B: .*: failed (" "$tmp/cpnsd.log"; }
f0=$(sd audit auth-failure)
l0=$(grep -c "not audited" "$tmp/cpnsd.log")
d0=$(failed_lines)
t0=$SECONDS
refused=0
for _ in $(seq 22); do
	connect "$tmp/gw"
	[ $? = 3 ] && refused=$((refused + 1))
done
t1=$SECONDS
for _ in $(seq 50); do
	f1=$(sd audit auth-failure)
	l1=$(grep -c "not audited" "$tmp/cpnsd.log")
	d1=$(failed_lines)
	[ $((f1 - f0 + l1 - l0)) -ge $((d1 - d0)) ] && break
	sleep 0.1
done
most=$((10 * ((t1 - t0) / 60 + 2)))
if [ $refused = 22 ] && [ $((f1 - f0)) -le $most ] &&
	[ $((f1 - f0 + l1 - l0)) = $((d1 - d0)) ] &&
	{ [ $((d1 - d0)) -le $most ] || [ $((l1 - l0)) -ge 1 ]; }; then
	ok "refused connects from one address: $((d1 - d0)) failures, $((f1 - f0)) audited, the others logged as not audited"
else
	nok "refused connects from one address: at most 10 audit rows a minute"
	echo "# refused $refused in $((t1 - t0)) s, failures $d0 -> $d1, rows $f0 -> $f1, not audited $l0 -> $l1"
fi

# 20: "user add" with a password file it cannot read changes nothing
# (exit 1); "user del" ends the sessions of the user's GWs at once (6.5)
GW3=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a04
sgens_of() { "$T/cpnsctl" -n "$SNS" session show local "$S" peer "$1" 2>/dev/null | grep -c generation; }
sd user add dave password-file "$tmp/none" >"$tmp/out" 2>&1; rc_add=$?
sd user add dave password-file "$tmp/pw" >>"$tmp/out" 2>&1 &&
	gw enroll server "$S" endpoint 10.79.0.1 user dave password-file "$tmp/pw" \
		state-dir "$tmp/gw3" local "$GW3" >>"$tmp/out" 2>"$tmp/err" &&
	gw connect server "$S" state-dir "$tmp/gw3" >>"$tmp/out" 2>>"$tmp/err"
rc=$?
g_before=$(sgens_of "$GW3")
sd user del dave >>"$tmp/out" 2>&1; rc_del=$?
g_after=$(sgens_of "$GW3")
if [ $rc_add = 1 ] && [ $rc = 0 ] && [ "$g_before" -ge 1 ] && [ $rc_del = 0 ] &&
	[ "$g_after" = 0 ] && ! sd entity list | grep -q "^$GW3"; then
	ok "user add with an unreadable password file: exit 1, nothing added; user del: the sessions of its GW removed"
else
	nok "user add with an unreadable password file: exit 1, nothing added; user del: the sessions of its GW removed"
	echo "# add rc=$rc_add, enrol+connect rc=$rc, del rc=$rc_del, generations on S $g_before -> $g_after"
	diag "$tmp/out" "$tmp/err"
fi

# Procedure B of a new GW of carol's with its m3 (AuthResponse, msg_type 3)
# dropped at S's input until release_m3: enrols it, starts cpnsctl connect
# (its PID in $con) and waits for a dropped m3 (held=1). Fails if the
# enrolment or nftables did.
hold_m3() { # STATE-DIR LOCAL-ID
	gw enroll server "$S" endpoint 10.79.0.1 user carol \
		password-file "$tmp/pw" state-dir "$1" local "$2" \
		>"$tmp/out" 2>"$tmp/err" || return 1
	ip netns exec "$SNS" nft -f - <<-EOF 2>"$tmp/nft" || return 1
	table inet t { chain i { type filter hook input priority 0;
		udp dport 7870 @th,480,8 3 counter drop; }; }
	EOF
	# cpnsctl itself, so that $con is the process to stop
	"$T/cpnsctl" -n "$GNS" connect server "$S" state-dir "$1" \
		>"$tmp/out" 2>"$tmp/err.r" &
	con=$!
	held=0
	for _ in $(seq 100); do
		ip netns exec "$SNS" nft list table inet t | grep -q "packets [1-9]" &&
			{ held=1; break; }
		sleep 0.1
	done
}
# Lets m3 through, waits (20 s at most) until function $1 counts one
# outcome in S's log, and stops the connect.
release_m3() { # COUNT-FUNCTION
	ip netns exec "$SNS" nft delete table inet t
	for _ in $(seq 200); do
		[ "$("$1")" -ge 1 ] && break
		sleep 0.1
	done
	kill "$con" 2>/dev/null; wait "$con" 2>/dev/null
}

# 21: a GW revoked between its m1 and its m3 (by another process: cpnsd
# keeps the key it read at m1) gets no session: S's input drops m3
# (AuthResponse, msg_type 3) until the revocation is committed; at the
# GW's next m3, S installs, finds the key gone, removes the session again
# and sends no m4 (the GW would time out, exit 4); the failure is logged
# (NOT_AUTHORIZED; the audit rows of this address are used up by 19).
GW4=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a05
not_installed() { grep -c "gw $GW4: not installed: its key was revoked" "$tmp/cpnsd.log"; }
if hold_m3 "$tmp/gw4" "$GW4"; then
	sd entity revoke "$GW4" >>"$tmp/out" 2>&1; rc_rev=$?
	release_m3 not_installed
	if [ $held = 1 ] && [ $rc_rev = 0 ] && [ "$(not_installed)" -ge 1 ] &&
	   [ "$(sgens_of "$GW4")" = 0 ] && [ -z "$(active_kid "$GW4")" ] &&
	   grep -q "gw $GW4 from .*: failed (NOT_AUTHORIZED)" "$tmp/cpnsd.log"; then
		ok "GW revoked during procedure B: S finds its key gone at the install, no session left"
	else
		nok "GW revoked during procedure B: S finds its key gone at the install, no session left"
		echo "# held=$held revoke rc=$rc_rev not-installed lines $(not_installed)" \
			"generations on S $(sgens_of "$GW4")"
		diag "$tmp/out" "$tmp/err.r"
	fi
else
	diag "$tmp/out" "$tmp/err" "$tmp/nft"
	nok "GW revoked during procedure B: enrolment and nftables (make deps) needed"
fi

# 22: the entities as JSON (cpnsd -j) say what the text lines say: after
# case 4 (the GW with its active key) and now (GW2 without an owner, the
# revoked GW4 without a kid)
sd entity list >"$tmp/ent2.txt" 2>&1
entities_json_as_text "$tmp/ent2.json.txt"
gw4_row=$(sd -j entity list 2>/dev/null | jq -c --arg id "$GW4" '.[] | select(.id == $id)')
if grep -q "^$GW gw owner alice kid [0-9]* expiry [0-9]*$" "$tmp/ent1.txt" &&
   cmp -s "$tmp/ent1.txt" "$tmp/ent1.json.txt" &&
   grep -q "^$GW2 gw owner - kid none$" "$tmp/ent2.txt" &&
   cmp -s "$tmp/ent2.txt" "$tmp/ent2.json.txt" &&
   jq -e '.owner == "carol" and .kid == null and .pending == false' \
	<<<"$gw4_row" >/dev/null 2>&1; then
	ok "entity list -j: the rows of the text listing, as JSON"
else
	nok "entity list -j: the rows of the text listing, as JSON"
	diag "$tmp/ent1.txt" "$tmp/ent1.json.txt" "$tmp/ent2.txt" \
		"$tmp/ent2.json.txt"
	echo "# GW4: $gw4_row"
fi

# 23: S sends its installs unacknowledged and reads the kernel's answers
# to those that failed at the end of each pass: a GW whose install the
# kernel refuses gets no m4 and no session, and the kernel's reason is
# logged. The refusal: while the GW's m3 is held (as in 21), its ID is
# made a local ID of S's namespace, and an install with address learning
# for a local ID is invalid.
GW5=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a06
refused() { grep -c "gw $GW5: not installed: .*the peer is a local ID" "$tmp/cpnsd.log"; }
if hold_m3 "$tmp/gw5" "$GW5"; then
	"$T/cpnsctl" -n "$SNS" id add "$GW5" >>"$tmp/out" 2>&1; rc_id=$?
	release_m3 refused
	"$T/cpnsctl" -n "$SNS" id del "$GW5" >>"$tmp/out" 2>&1
	if [ $held = 1 ] && [ $rc_id = 0 ] && [ "$(refused)" -ge 1 ] &&
	   [ "$(sgens_of "$GW5")" = 0 ] &&
	   grep -q "gw $GW5 from .*: failed (INTERNAL_ERROR)" "$tmp/cpnsd.log" &&
	   ! grep -q "gw $GW5 from .*: .* installed" "$tmp/cpnsd.log"; then
		ok "install refused by S's kernel: the reason logged, no m4, no session"
	else
		nok "install refused by S's kernel: the reason logged, no m4, no session"
		echo "# held=$held id add rc=$rc_id refused lines $(refused)" \
			"generations on S $(sgens_of "$GW5")"
		grep "$GW5" "$tmp/cpnsd.log" | sed 's/^/# /'
		diag "$tmp/out" "$tmp/err.r"
	fi
else
	diag "$tmp/out" "$tmp/err" "$tmp/nft"
	nok "install refused by S's kernel: enrolment and nftables (make deps) needed"
fi

kill "$srv_pid"; wait "$srv_pid"; srv_pid=
echo "# $n cases in $SECONDS s"
echo "# cpnsd log:"
diag "$tmp/cpnsd.log"
[ $fails = 0 ]
