#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The gateway agent (cpnsctl agent): cpnsd (S) in one network namespace,
# an enrolled GW running the agent in another, over veth (the setup of
# procedures_test.sh).
#
#  1 with no session the agent connects by itself;
#  2,3 numbered records flow both ways without pause while the GW's
#    transmit epoch reaches the re-key threshold (224, PROTOCOL.md 2.9;
#    reached within seconds by lowering the module parameter
#    tx_epoch_records), the agent re-authenticates (a new generation,
#    make-before-break, 2.10) and both sides switch: every number arrives
#    exactly once;
#  4 the GW loses the generation S transmits on: S's next record hits
#    NO_SESSION at the GW, whose agent re-authenticates;
#  5 SIGHUP with an unusable enrolment file keeps the running one;
#  6 the GW's generations are erased: the agent re-authenticates;
#  7 failed attempts are retried after 1, 2, 4 s (+ up to 10 %);
#  8 SIGTERM ends the agent at once while a handshake waits for a silent S.
#
# S losing its generations is not in the list: nothing reaches the GW
# then (S has no key to tell it, section 7), so the GW re-authenticates at
# its next re-key trigger only.
#
# Environment: CPNS_KO, CPNS_REPO (tools in $CPNS_REPO/build/tools).
set -u
here=$(cd "$(dirname "$0")" && pwd)
CPNS_REPO=${CPNS_REPO:-$(dirname "$(dirname "$here")")}
T=$CPNS_REPO/build/tools
SNS=cpns-asrv-$$
GNS=cpns-agw-$$
tmp=$(mktemp -d /tmp/cpns-agent.XXXXXX)
S=5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e11
GW=6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a12
EPR=/sys/module/cpns/parameters/tx_epoch_records
REKEY_EPOCH=224		# CPNS_REKEY_EPOCH of the uapi
srv_pid='' agent_pid='' epr_orig='' pids='' NEWGEN='' rxe=''

cleanup() {
	local p
	for p in $pids $agent_pid $srv_pid; do kill -9 "$p" 2>/dev/null; done
	[ -n "$epr_orig" ] && echo "$epr_orig" >"$EPR"
	ip netns del "$SNS" 2>/dev/null
	ip netns del "$GNS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /' "$@"; }
# milliseconds, without a fork (bash 5)
# a mark in the kernel log, to place a kernel message in the test
kmark() { echo "agent_test: $*" >/dev/kmsg 2>/dev/null; }
# The waits poll without starting a process (bash 5 builtins only): on
# the debug kernel under TCG every process start costs a lot of the time
# the agent and cpnsd need.
# milliseconds into $NOW
now_ms() { local t=${EPOCHREALTIME/[.,]/}; NOW=$((t / 1000)); }
# nap: 0.05 s, as a read timeout on a FIFO nobody writes to
nap() { read -r -t 0.05 -u "$nap_fd" _ 2>/dev/null || [ $? -gt 128 ] || sleep 0.05; }
# wait_for SECONDS COMMAND...: poll every 0.05 s until COMMAND succeeds
wait_for() {
	local end
	now_ms; end=$((NOW + $1 * 1000))
	shift
	until "$@"; do
		now_ms; [ "$NOW" -ge $end ] && return 1
		nap
	done
}

echo "TAP version 13"
echo "1..11"

if [ ! -d /sys/module/cpns ]; then
	insmod "${CPNS_KO:?}" || { echo "Bail out! insmod failed"; exit 1; }
fi
epr_orig=$(cat "$EPR")
mkfifo "$tmp/nap" && exec {nap_fd}<>"$tmp/nap"
ip netns add "$SNS" && ip netns add "$GNS" &&
ip link add vs netns "$SNS" type veth peer name vg netns "$GNS" &&
ip -n "$SNS" addr add 10.79.1.1/24 dev vs && ip -n "$SNS" link set vs up &&
ip -n "$GNS" addr add 10.79.1.2/24 dev vg && ip -n "$GNS" link set vg up &&
ip -n "$SNS" link set lo up && ip -n "$GNS" link set lo up ||
	{ echo "Bail out! namespaces"; exit 1; }

sd() { "$T/cpnsd" -n "$SNS" -s "$tmp/srv" "$@"; }
gw() { "$T/cpnsctl" -n "$GNS" "$@"; }
srv() { "$T/cpnsctl" -n "$SNS" "$@"; }
start_srv() {
	"$T/cpnsd" -n "$SNS" -s "$tmp/srv" -i "$S" -e >>"$tmp/cpnsd.log" 2>&1 &
	srv_pid=$!
	wait_for 30 file_has "$tmp/cpnsd.log" 1 "serving"
}
start_agent() { # LOG
	"$T/cpnsctl" -n "$GNS" agent server "$S" state-dir "$tmp/gw" log stderr \
		2>>"$1" &
	agent_pid=$!
}
# generation the pair transmits on, seen from NS (empty: none)
txgen() { # NS LOCAL PEER
	local out l
	out=$("$T/cpnsctl" -n "$1" session show local "$2" peer "$3" 2>/dev/null)
	while read -r l; do
		if [[ $l == *tx-active* && $l =~ generation\ ([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return
		fi
	done <<<"$out"
}
ngens() { # NS LOCAL PEER
	"$T/cpnsctl" -n "$1" session show local "$2" peer "$3" 2>/dev/null |
		grep -c 'generation [0-9]'
}
# FILE has a line from line FROM on that contains TEXT
file_has() { # FILE FROM TEXT
	local -a lines
	local l
	mapfile -t -s $(($2 - 1)) lines <"$1"
	for l in "${lines[@]}"; do [[ $l == *"$3"* ]] && return 0; done
	return 1
}
# the agent's log lines from line FROM on
log_from() { tail -n +"$1" "$tmp/agent.log"; }
log_mark() { local -a lines; mapfile -t lines <"$tmp/agent.log"; mark=$((${#lines[@]} + 1)); }
logged() { file_has "$tmp/agent.log" "$mark" "$1"; }
# A new generation that both sides transmit on: S switches to it when the
# GW's first record on it (the confirmation Ack) passes (2.10), so it has
# carried traffic both ways.
same_new() { # OLD_GW_GEN; sets NEWGEN
	NEWGEN=$(txgen "$GNS" "$GW" "$S")
	[ -n "$NEWGEN" ] && [ "$NEWGEN" != "$1" ] &&
		[ "$(txgen "$SNS" "$S" "$GW")" = "$NEWGEN" ]
}
recovered() { wait_for 15 same_new "$1"; }

kmark "0 setup"
mkdir -p "$tmp/srv" && chmod 700 "$tmp/srv"
printf 'correct horse battery\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
sd user add alice password-file "$tmp/pw" >"$tmp/out" 2>&1 &&
	kmark "0 cpnsd" && start_srv && kmark "0 enroll" &&
	gw enroll server "$S" endpoint 10.79.1.1 user alice password-file "$tmp/pw" \
		state-dir "$tmp/gw" local "$GW" >"$tmp/out" 2>&1 ||
	{ diag "$tmp/out" "$tmp/cpnsd.log"; echo "Bail out! enrolment"; exit 1; }
: >"$tmp/agent.log"

# 1: the agent connects by itself
kmark "1 agent start"
now_ms; t0=$NOW
log_mark
start_agent "$tmp/agent.log"
if wait_for 30 logged "(no session): generation" && now_ms && recovered ""; then
	ok "agent without a session connects by itself (generation $NEWGEN on both sides after $((NOW - t0)) ms)"
else
	nok "agent without a session connects by itself"; diag "$tmp/agent.log" "$tmp/cpnsd.log"
fi

# 2, 3: zero loss across the soft limit, the re-authentication and the
# switch. Warm-up: one record per epoch up to epoch ~216 (the repeats of
# case 1's confirmation Ack may add two), paced so that S's receiver keeps
# up (it accepts at most 8 epochs ahead, 2.8); then 8 records per epoch:
# the threshold comes after ~60 numbered records, and 31 more epochs (~250
# records, 5 s at 50/s) are left for the handshake.
# The receivers start first (they ignore the warm-up's records).
gen0=$NEWGEN
log_mark
kmark "2 warm-up"
"$T/cpns-dgram" -n "$SNS" count "$S:5000" up 1 >"$tmp/cnt-up" 2>&1 &
cu=$!
"$T/cpns-dgram" -n "$GNS" count "$GW:5001" down 1 >"$tmp/cnt-down" 2>&1 &
cdn=$!
pids="$cu $cdn"
echo 1 >"$EPR"
"$T/cpns-dgram" -n "$GNS" stream "$GW" "$S:5000" warm 0 216 100 >"$tmp/warm" 2>&1
out=$(srv -d session show local "$S" peer "$GW")
[[ $out =~ rx-epoch\ ([0-9]+) ]] && rxe=${BASH_REMATCH[1]}
echo 8 >"$EPR"
kmark "2 streams"
"$T/cpns-dgram" -n "$GNS" stream "$GW" "$S:5000" up 0 0 50 >"$tmp/snd-up" 2>&1 &
su=$!
"$T/cpns-dgram" -n "$SNS" stream "$S" "$GW:5001" down 0 0 50 >"$tmp/snd-down" 2>&1 &
sdn=$!
pids="$cu $cdn $su $sdn"
switched=0
# both sides on the new generation: S switches on the GW's first record
# on it
wait_for 40 logged "(epoch threshold): generation" && recovered "$gen0" && switched=1
sleep 0.5
kill -TERM $su $sdn
wait $su $sdn
wait_for 5 eval '! kill -0 $cu 2>/dev/null && ! kill -0 $cdn 2>/dev/null' || kill -TERM $cu $cdn
wait $cu $cdn
pids=
echo "$epr_orig" >"$EPR"
gen1=$NEWGEN
zero_loss() { # SENDER_OUT COUNTER_OUT
	local sent next errs rcvd dist dup first last miss
	read -r _ sent _ next _ _ _ errs _ <"$1"
	read -r _ rcvd _ dist _ dup _ first _ last _ miss <"$2"
	[ "${sent:-0}" -gt 0 ] && [ "$errs" = 0 ] && [ "$dist" = "$sent" ] &&
		[ "$rcvd" = "$sent" ] && [ "$dup" = 0 ] && [ "$miss" = 0 ] &&
		[ "$first" = 0 ] && [ "$last" = $((next - 1)) ]
}
desc="generation $gen0 to ${gen1:-none} on both sides, S at rx epoch ${rxe:-?} after warm-up"
# the threshold came while the numbered records flowed
if [ $switched = 1 ] && [ "${rxe:-224}" -lt 224 ] && zero_loss "$tmp/snd-up" "$tmp/cnt-up"; then
	ok "GW -> S: zero loss across the epoch threshold and re-authentication, $desc: $(cat "$tmp/snd-up")"
else
	nok "GW -> S: zero loss across the epoch threshold and re-authentication, $desc"
	echo "# switched=$switched"
	diag "$tmp/warm" "$tmp/snd-up" "$tmp/cnt-up"; log_from "$mark" | diag
	failed23=1
fi
if [ $switched = 1 ] && zero_loss "$tmp/snd-down" "$tmp/cnt-down"; then
	ok "S -> GW: zero loss across the re-authentication and S's switch: $(cat "$tmp/snd-down")"
else
	nok "S -> GW: zero loss across the re-authentication and S's switch"
	diag "$tmp/snd-down" "$tmp/cnt-down"
	failed23=1
fi
if [ -n "${failed23:-}" ]; then
	echo "# GW:"; gw -s -d session show | diag; gw stats show | diag
	echo "# S:"; srv -s -d session show | diag; srv stats show | diag
fi

# 4: the GW loses the generation S transmits on (it keeps the older one,
# so no erasure leaves it without a session): S's next record is dropped
# NO_SESSION at the GW, and the agent re-authenticates. The generation it
# keeps must be below the epoch threshold, or the agent would re-key for
# that first: the warmed-up one goes, and a connect by hand makes a new
# one to lose.
kmark "4 prepare"
kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null	# it holds port 1
gw session del local "$GW" peer "$S" generation "$gen0" >"$tmp/prep" 2>&1
gw connect server "$S" state-dir "$tmp/gw" >>"$tmp/prep" 2>&1 && recovered "$gen1" &&
	gen1=$NEWGEN
start_agent "$tmp/agent.log"
wait_for 10 logged "started"
log_mark
kmark "4 del gen $gen1"
held=$(ngens "$GNS" "$GW" "$S")
gw session del local "$GW" peer "$S" generation "$gen1" >"$tmp/out" 2>&1
"$T/cpns-dgram" -n "$SNS" send "$S" "$GW:5000" knock >/dev/null 2>&1
if [ "$held" = 2 ] &&
	wait_for 20 logged "(record for an unknown session from the server): generation" &&
	recovered "$gen1"; then
	ok "record from S for a generation the GW lost: the agent re-authenticates (generation $NEWGEN)"
else
	nok "record from S for a generation the GW lost: the agent re-authenticates"
	echo "# GW held $held generations"; diag "$tmp/prep" "$tmp/out"; log_from "$mark" | diag
	gw session show; srv session show
fi

# 5: once more, right after that success: a record for an unknown
# session (its header is not authenticated: anyone can send one) starts
# a handshake no sooner than 10 s after the last one succeeded
ms_of() { sed -n 's/.*\[\([0-9]*\)\.\([0-9]*\)\] procedure B .*installed$/\1\2/p' | tail -1; }
t_ok=$(log_from "$mark" | ms_of)
log_mark
kmark "5 del gen $NEWGEN"
g=$NEWGEN
gw session del local "$GW" peer "$S" generation "$g" >"$tmp/out" 2>&1
sleep 1.1	# one NO_SESSION notification per pair per second (13.4)
"$T/cpns-dgram" -n "$SNS" send "$S" "$GW:5000" knock >/dev/null 2>&1
if wait_for 30 logged "(record for an unknown session from the server): generation" &&
	recovered "$g" && t_next=$(log_from "$mark" | ms_of) &&
	[ -n "$t_ok" ] && [ $((t_next - t_ok)) -ge 10000 ]; then
	ok "a second record for an unknown session: the handshake $((t_next - t_ok)) ms after the last success (at least 10 s)"
else
	nok "a second record for an unknown session: the handshake at least 10 s after the last success"
	echo "# last success at ${t_ok:-?} ms, next at ${t_next:-?} ms"; diag "$tmp/out"; log_from "$mark" | diag
fi

# 6: SIGHUP with an unusable enrolment file: the agent keeps running with
# the enrolment it has
log_mark
kmark "6 sighup"
conf=$tmp/gw/server-$S.conf
cp -p "$conf" "$tmp/conf.good"
printf 'this is not an enrolment\n' >"$conf"
kill -HUP "$agent_pid"
if wait_for 10 logged "reload failed; keeping the running enrolment" &&
	kill -0 "$agent_pid" 2>/dev/null; then
	ok "SIGHUP with an unusable enrolment file: keeps running with the old one"
else
	nok "SIGHUP with an unusable enrolment file: keeps running with the old one"
	log_from "$mark" | diag
fi

# 7: the GW's generations are erased (deleted here; the end of a lifetime
# is the same notification): the agent re-authenticates, with the
# enrolment it kept
log_mark
kmark "7 flush"
g=$NEWGEN
gw session flush local "$GW" >"$tmp/out" 2>&1
if wait_for 20 logged "(no session): generation" && recovered "$g"; then
	ok "GW's generations erased: the agent re-authenticates with the kept enrolment (generation $NEWGEN)"
else
	nok "GW's generations erased: the agent re-authenticates with the kept enrolment"
	diag "$tmp/out"; log_from "$mark" | diag
fi
cp -p "$tmp/conf.good" "$conf"

# 8: the epoch threshold passes while no agent listens (it restarts, or
# its socket overflowed): the notification is lost, and the agent that
# starts then finds the threshold in the session's state (2.9, 13.4)
kmark "8 missed threshold"
g=$NEWGEN
kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null
echo 1 >"$EPR"
"$T/cpns-dgram" -n "$GNS" stream "$GW" "$S:5000" warm 0 $((REKEY_EPOCH + 4)) 100 \
	>"$tmp/warm2" 2>&1
echo "$epr_orig" >"$EPR"
out=$(gw -d session show local "$GW" peer "$S")
[[ $out =~ tx-epoch\ ([0-9]+) ]] && txe=${BASH_REMATCH[1]}
log_mark
start_agent "$tmp/agent.log"
if [ "${txe:-0}" -ge "$REKEY_EPOCH" ] &&
	wait_for 30 logged "(epoch threshold): generation" && recovered "$g"; then
	ok "epoch threshold passed with no agent: the next agent re-authenticates (tx epoch $txe, generation $NEWGEN)"
else
	nok "epoch threshold passed with no agent: the next agent re-authenticates"
	echo "# tx epoch ${txe:-?}"; diag "$tmp/warm2"; log_from "$mark" | diag
fi

# 9: backoff. S is stopped and its address unreachable (the GW's link is
# down), so every attempt fails at once; the retries must come 1 and 2 s
# (+ up to 10 % jitter) apart, as the agent says and as it does, and the
# third be announced for 4 s later.
kmark "9 backoff"
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=''
ip -n "$GNS" link set vg down
log_mark
gw session flush local "$GW" >"$tmp/out" 2>&1
retries3() { # a third failure logged
	local -a lines
	local l k=0
	mapfile -t -s $((mark - 1)) lines <"$tmp/agent.log"
	for l in "${lines[@]}"; do [[ $l == *"; retry in"* ]] && k=$((k + 1)); done
	[ $k -ge 3 ]
}
wait_for 10 retries3
# "[T.mmm] ...; retry in D ms" -> "T_ms D"
log_from "$mark" | grep "; retry in" |
	sed -n 's/.*\[\([0-9]*\)\.\([0-9]*\)\].*retry in \([0-9]*\) ms$/\1\2 \3/p' >"$tmp/tries"
if awk 'BEGIN { base = 1000 }
	{ t[NR] = $1; d[NR] = $2 }
	END {
		if (NR < 3) exit 1
		for (i = 1; i <= 3; i++) {
			if (d[i] < base || d[i] > base * 1.1) exit 1
			gap = t[i + 1] - t[i]
			if (i < 3 && (gap < d[i] || gap > d[i] + 500)) exit 1
			base *= 2
		}
	}' "$tmp/tries"; then
	ok "backoff: retries after $(cut -d' ' -f2 "$tmp/tries" | head -3 | paste -sd' ') ms"
else
	nok "backoff: retries after 1, 2, 4 s"; log_from "$mark" | diag
fi

# 10: SIGTERM while a handshake waits for S, which does not answer (cpnsd
# stopped: its m1 would be retransmitted for 23 s, 4.7). The link is up
# again and a SIGHUP (with a usable file) ends the backoff: the agent
# starts at once.
kmark "10 sigterm"
ip -n "$GNS" link set vg up
log_mark
kill -HUP "$agent_pid"
wait_for 10 logged "reloaded"
r1=$?
sleep 1
pending=$(log_from "$mark" | grep -c "procedure B")
now_ms; t0=$NOW
kill -TERM "$agent_pid"
wait_for 5 eval '! kill -0 "$agent_pid" 2>/dev/null'
now_ms; dt=$((NOW - t0))
wait "$agent_pid" 2>/dev/null
rc=$?
if [ $r1 = 0 ] && [ "$pending" = 0 ] && [ $dt -le 2000 ] && [ $rc = 0 ] &&
	log_from "$mark" | grep -q exiting; then
	ok "SIGTERM during an unanswered handshake: exit 0 after $dt ms"
else
	nok "SIGTERM during an unanswered handshake: exit 0 within 2 s (took $dt ms, status $rc)"
	log_from "$mark" | diag
	kill -9 "$agent_pid" 2>/dev/null
fi
agent_pid=''

# 11: cpnsd without --log-auth: every authentication above audited, none
# in its log (failures and procedure A are)
auths=$(sd audit auth 2>/dev/null)
if [ "${auths:-0}" -ge 3 ] && grep -q "procedure A: gw $GW .*assigned" "$tmp/cpnsd.log" &&
	! grep -q "procedure B: gw .* installed" "$tmp/cpnsd.log"; then
	ok "cpnsd without --log-auth: $auths authentications audited, none logged"
else
	nok "cpnsd without --log-auth: authentications audited, none logged (audit auth: ${auths:-?})"
fi

echo "# agent log:"
diag "$tmp/agent.log"
echo "# cpnsd log:"
diag "$tmp/cpnsd.log"
[ $fails = 0 ]
