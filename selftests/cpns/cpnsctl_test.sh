#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cpnsctl against the module: every object's add/show/del, JSON output,
# usage errors (exit 1, nothing changed), kernel refusals (exit 2 with the
# kernel's message), key file checks, batch mode, monitor and -n.
# Drives the module through cpnsctl only. Runs as root, in a private
# network namespace (so through -n), inside the test VM.
#
# Environment: CPNS_KO (module to insmod when cpns is not loaded),
# CPNS_REPO (repository; cpnsctl is $CPNS_REPO/build/tools/cpnsctl),
# CPNSCTL (overrides the binary).
set -u
here=$(cd "$(dirname "$0")" && pwd)
CPNS_REPO=${CPNS_REPO:-$(dirname "$(dirname "$here")")}
CPNSCTL=${CPNSCTL:-$CPNS_REPO/build/tools/cpnsctl}
NS=cpnsctl-test-$$
tmp=$(mktemp -d /tmp/cpnsctl-test.XXXXXX)
mon_pid=

ID1=1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b
ID1_UUID=1B5E2F8C-9A0D-4E7F-8A6B-5C4D3E2F1A0B
ID2=2c6f3a9d0b1e4f808b7c6d5e4f3a2b1c
ID3=3d7a4b0e1c2f40919c8d7e6f5a4b3c2d
PNE1=4e8b5c1f2d3041a2ad9e8f7a6b5c4d3e
PNE2=5f9c6d20e4f152b3bea09f8b7c6d5e4f
TXKEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
RXKEY=f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100

cleanup() {
	[ -n "$mon_pid" ] && kill "$mon_pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# cpnsctl in the test namespace
c() { "$CPNSCTL" -n "$NS" "$@"; }

diag() { sed 's/^/# /' "$@"; }

# run_rc EXPECTED ARGS...: run cpnsctl in the namespace, output in
# $tmp/out and $tmp/err; succeed when the exit status is EXPECTED
rc=0
run_rc() {
	local want=$1
	shift
	c "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "# cpnsctl $*: exit $rc, expected $want"
		diag "$tmp/err"
		return 1
	fi
}
run() { run_rc 0 "$@"; }

# has FILE PATTERN: FILE ($tmp/out or $tmp/err) matches, or say what it holds
has() {
	grep -q -e "$2" "$1" && return 0
	echo "# no \"$2\" in:"
	diag "$1"
	return 1
}

jqt() { # FILTER: true when the JSON in $tmp/out satisfies FILTER
	jq -e "$1" "$tmp/out" >/dev/null 2>&1 || {
		echo "# jq '$1' failed on:"
		diag "$tmp/out"
		return 1
	}
}

# the full configuration of the namespace, for "nothing changed" checks;
# one cpnsctl and one jq (every process is slow under TCG)
snapshot() {
	printf '%s\n' "link show" "id show" "peer show" "route show" \
		"session show" >"$tmp/snap.batch"
	c -j -b "$tmp/snap.batch" 2>&1 |
		jq -c -s 'map(if type == "array" then map(del(.age_ms, .lifetime_ms)) else . end)'
}

keyfile() { # NAME HEX MODE
	(umask 077; printf '%s\n' "$2" >"$tmp/$1")
	chmod "$3" "$tmp/$1"
}

SESS1="local $ID1 peer $ID2 generation 1 suite aes256gcm role initiator"

# ---- the tests: each prints nothing on success, diagnostics on failure -

t_module() {
	if [ ! -d /sys/module/cpns ]; then
		insmod "${CPNS_KO:?CPNS_KO not set}" || return 1
	fi
	ip netns add "$NS" || return 1
	run info && has "$tmp/out" "profile cpns1"
}

t_info_json() {
	local af
	run -j info && jqt '.profile == "cpns1" and .version >= 1' || return 1
	af=$(cat /sys/module/cpns/parameters/family 2>/dev/null) || return 0
	jqt ".family == $af"
}

t_pretty_json() {
	run -j -p info && [ "$(wc -l <"$tmp/out")" -gt 2 ] && jqt '.profile'
}

t_link() {
	run link show && has "$tmp/out" "port 7870 forwarding off" || return 1
	run link set port 7871 forwarding on || return 1
	run -j link show && jqt '.port == 7871 and .forwarding == true' || return 1
	run link set forwarding off && run link set port 7870 &&
		run -j link show && jqt '.port == 7870 and .forwarding == false'
}

t_id_add_show() {
	run id add "$ID1_UUID" && run id add "$ID3" || return 1
	run id show && has "$tmp/out" "^""$ID1""$" && has "$tmp/out" "^""$ID3""$" ||
		return 1
	run -j id show && jqt "map(.id) | sort == [\"$ID1\", \"$ID3\"]"
}

t_id_duplicate() {
	run_rc 2 id add "$ID1" && has "$tmp/err" "already exists"
}

t_id_reserved() {
	run_rc 2 id add ffffffffffffffffffffffffffffffff &&
		has "$tmp/err" "reserved" || return 1
	run_rc 2 id add 00000000000000000000000000000000 &&
		has "$tmp/err" "reserved"
}

t_id_del() {
	run id del "$ID3" && run -j id show && jqt "map(.id) == [\"$ID1\"]" ||
		return 1
	run_rc 2 id del "$ID3" && has "$tmp/err" "no such local ID"
}

t_peer() {
	run peer set "$ID2" endpoint 192.0.2.1:7870 learn on || return 1
	run peer set "$ID3" endpoint "[2001:db8::1]:7871" || return 1
	run peer show "$ID2" &&
		has "$tmp/out" "^$ID2 endpoint 192.0.2.1:7870 learn on" ||
		return 1
	run -j peer show &&
		jqt "map(select(.id == \"$ID3\"))[0].endpoint == \"[2001:db8::1]:7871\"" &&
		jqt "map(select(.id == \"$ID2\"))[0].learn == true" || return 1
	# set again replaces; default port
	run peer set "$ID3" endpoint 198.51.100.2 learn off &&
		run -j peer show "$ID3" &&
		jqt ".[0].endpoint == \"198.51.100.2:7870\" and .[0].learn == false"
}

t_peer_del() {
	run peer del "$ID3" || return 1
	run_rc 2 peer show "$ID3" && has "$tmp/err" "no such peer" || return 1
	run_rc 2 peer del "$ID3" && has "$tmp/err" "no such peer"
}

t_route() {
	run route add "$PNE1" via "$ID2" &&
		run route add "$PNE2" endpoint "[2001:db8::7]:7000" || return 1
	run route show && has "$tmp/out" "^$PNE1 via $ID2" || return 1
	run -j route show &&
		jqt "map(select(.pne == \"$PNE1\"))[0].via == \"$ID2\"" &&
		jqt "map(select(.pne == \"$PNE2\"))[0].endpoint == \"[2001:db8::7]:7000\"" ||
		return 1
	run route del "$PNE2" && run -j route show && jqt 'length == 1' ||
		return 1
	run_rc 2 route del "$PNE2" && has "$tmp/err" "no such route"
}

t_route_refused() {
	run_rc 2 route add "$PNE2" via "$PNE2" &&
		has "$tmp/err" "own destination"
}

t_session_add() {
	keyfile tx.key "$TXKEY" 0600
	keyfile rx.key "$RXKEY" 0400
	run session add $SESS1 tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key" ||
		return 1
	run -j session show &&
		jqt "length == 1 and .[0].local == \"$ID1\" and .[0].peer == \"$ID2\" and
		     .[0].generation == 1 and .[0].suite == \"aes256gcm\" and
		     .[0].role == \"initiator\" and .[0].mode == \"immediate\" and
		     .[0].tx_active == true and .[0].lifetime_ms > 0"
}

t_session_responder() {
	# secret from stdin and from fd:N; mode defaults to on-confirm
	run session add local "$ID1" peer "$ID2" generation 2 \
		suite chacha20poly1305 role responder \
		tx-secret - rx-secret fd:3 <"$tmp/tx.key" 3<"$tmp/rx.key" ||
		return 1
	run -j session show local "$ID1" peer "$ID2" &&
		jqt 'length == 2' &&
		jqt 'map(select(.generation == 2))[0] | .mode == "on-confirm" and .suite == "chacha20poly1305" and .role == "responder"'
}

t_session_show_text() {
	run session show && has "$tmp/out" "generation 1 suite aes256gcm role initiator mode immediate" ||
		return 1
	run -d session show && has "$tmp/out" "tx-epoch 0 tx-seq 0 rx-epoch 0" ||
		return 1
	run -s session show && has "$tmp/out" "rx_records" || return 1
	run -j -s session show && jqt '.[0].stats.rx_records == 0 and (.[0].stats.drop | has("auth"))'
}

t_session_filter() {
	run -j session show peer "$ID3" && jqt 'length == 0' || return 1
	run -j session show local "$ID1" && jqt 'length == 2'
}

t_no_secret_printed() {
	local f
	: >"$tmp/all"
	for f in "" -d -s -j "-j -s" "-j -p -s -d"; do
		# shellcheck disable=SC2086
		c $f session show >>"$tmp/all" 2>&1
	done
	grep -q "$ID1" "$tmp/all" || return 1
	! grep -qi -e "${TXKEY:0:16}" -e "${RXKEY:0:16}" -e "${TXKEY:48}" \
		-e "${RXKEY:48}" "$tmp/all"
}

t_key_mode_refused() {
	local before
	keyfile open.key "$TXKEY" 0644
	before=$(snapshot)
	run_rc 1 session add local "$ID1" peer "$ID2" generation 3 \
		suite aes256gcm role initiator \
		tx-secret "$tmp/open.key" rx-secret "$tmp/rx.key" || return 1
	has "$tmp/err" "accessible by group or others" || return 1
	[ "$before" = "$(snapshot)" ]
}

t_usage_unchanged() {
	local before bad=0
	before=$(snapshot)
	while read -r line; do
		# shellcheck disable=SC2086
		c $line >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc != 1 ] || ! grep -q '^Usage:' "$tmp/err"; then
			echo "# cpnsctl $line: exit $rc, expected 1 with usage"
			bad=1
		fi
	done <<EOF
id add $ID2 extra
id del 12345
peer set $ID3 endpoint 192.0.2.1:99999
route add $PNE2 towards $ID2
link set port 0
session add $SESS1 tx-secret $tmp/tx.key
session add local $ID1 peer $ID2 generation 300 suite aes256gcm role initiator tx-secret $tmp/tx.key rx-secret $tmp/rx.key
session flush all
EOF
	[ $bad = 0 ] && [ "$before" = "$(snapshot)" ]
}

t_stats() {
	run -j stats show || return 1
	jqt '(.drop | keys) == (["short", "too_big", "length", "reserved",
		"version", "bad_type", "bad_suite", "bad_entity", "bad_port",
		"no_route", "suite0", "no_session", "suite_mismatch", "epoch",
		"epoch_pending", "seq_limit", "replay", "too_old", "auth", "policy",
		"no_port"] | sort) and has("rx_records") and has("tx_records") and
		has("forwarded") and has("tx_errors") and has("rx_errors")' || return 1
	run stats show && has "$tmp/out" "drop:" && has "$tmp/out" "no_session" ||
		return 1
	run stats reset && run -j stats show && jqt '[.. | numbers] | add == 0'
}

t_monitor() {
	local i
	# SIGTERM: a background job of a script starts with SIGINT ignored
	"$CPNSCTL" -n "$NS" -j monitor >"$tmp/mon" 2>"$tmp/mon.err" &
	mon_pid=$!
	# subscribed once its signalfd exists (it is made after the event
	# socket); exec is slow under TCG, so wait for it, not a fixed time
	for i in $(seq 120); do
		find "/proc/$mon_pid/fd" -lname '*signalfd*' 2>/dev/null | grep -q . && break
		sleep 0.5
	done
	run session del local "$ID1" peer "$ID2" generation 2 || return 1
	for i in $(seq 60); do
		grep -q '"erased"' "$tmp/mon" && break
		sleep 0.5
	done
	kill -TERM "$mon_pid"
	for i in $(seq 40); do
		kill -0 "$mon_pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$mon_pid" 2>/dev/null
	wait "$mon_pid"
	i=$?
	mon_pid=
	[ $i = 0 ] || { echo "# monitor exited $i"; diag "$tmp/mon.err"; return 1; }
	jq -e -s "map(select(.event == \"erased\"))[0] | .local == \"$ID1\" and .peer == \"$ID2\" and .generation == 2 and .cause == \"deleted\" and (.time | length > 0)" \
		"$tmp/mon" >/dev/null || { diag "$tmp/mon"; return 1; }
}

t_session_del() {
	run -j session show && jqt 'length == 1' || return 1
	run_rc 2 session del local "$ID1" peer "$ID2" generation 9 || return 1
	run session del local "$ID1" peer "$ID2" && run -j session show &&
		jqt 'length == 0'
}

t_session_flush() {
	run session add $SESS1 tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key" &&
		run -j session show && jqt 'length == 1' || return 1
	run session flush && run -j session show && jqt 'length == 0'
}

t_batch() {
	cat >"$tmp/batch" <<EOF
# set up a GW uplink
id add $ID3   # second local ID
peer set $PNE2 endpoint 192.0.2.77
id add $ID3
peer set $PNE1 endpoint 192.0.2.78
EOF
	run_rc 2 -b "$tmp/batch" || return 1
	has "$tmp/err" "batch:4: command failed" &&
		has "$tmp/err" "already exists" || return 1
	# lines before the failure applied, none after it
	run -j peer show && jqt "map(.id) | index(\"$PNE2\") != null" &&
		jqt "map(.id) | index(\"$PNE1\") == null"
}

t_netns() {
	# the test namespace has ID1; the initial namespace must not see it
	"$CPNSCTL" -j id show >"$tmp/out" 2>"$tmp/err" || return 1
	jqt "map(.id) | index(\"$ID1\") == null" || return 1
	run_rc 2 -n "$NS-missing" id show 2>/dev/null
	has "$tmp/err" "network namespace"
}

t_agent_module_gone() {
	# the module unloaded under a running agent: every request would fail
	# from then on, so it ends with exit 2 (its unit restarts it). Its
	# server does not exist; between attempts it holds no socket.
	local d=$tmp/agent-gone pid rc i
	mkdir -m 700 "$d" || return 1
	(umask 077 && printf 'server %s\nlocal %s\nendpoint 192.0.2.1\nkid 1\nexpiry 0\neukey %s\n' \
		"$ID2" "$ID3" "$TXKEY" >"$d/server-$ID2.conf") || return 1
	"$CPNSCTL" -n "$NS" agent server "$ID2" state-dir "$d" log stderr 2>"$d/log" &
	pid=$!
	for i in $(seq 50); do
		grep -q "retry in" "$d/log" && break
		sleep 0.1
	done
	for i in $(seq 30); do
		rmmod cpns 2>/dev/null && break
		sleep 0.1
	done
	if [ -d /sys/module/cpns ]; then
		kill "$pid"; wait "$pid"
		echo "# SKIP: cpns cannot be unloaded here"
		return 0
	fi
	kill -HUP "$pid"	# a reload queries the sessions at once
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid"	# still running: fails
	wait "$pid"
	rc=$?
	insmod "$CPNS_KO" || return 1
	[ $rc = 2 ] && has "$d/log" "module is gone" ||
		{ echo "# agent exit $rc"; diag "$d/log"; return 1; }
}

t_not_loaded_message() {
	# with the family gone the message names the module; only when we
	# may unload it (nothing else holds it)
	if ! rmmod cpns 2>/dev/null; then
		echo "# SKIP: cpns cannot be unloaded here"
		return 0
	fi
	"$CPNSCTL" info >"$tmp/out" 2>"$tmp/err"
	rc=$?
	insmod "$CPNS_KO" || return 1
	[ $rc = 2 ] && has "$tmp/err" "cpns module not loaded"
}

tests=(
	t_module t_info_json t_pretty_json t_link
	t_id_add_show t_id_duplicate t_id_reserved t_id_del
	t_peer t_peer_del t_route t_route_refused
	t_session_add t_session_responder t_session_show_text t_session_filter
	t_no_secret_printed t_key_mode_refused t_usage_unchanged t_stats
	t_monitor t_session_del t_session_flush t_batch t_netns
	t_agent_module_gone t_not_loaded_message
)

echo "TAP version 13"
echo "1..${#tests[@]}"
if [ ! -x "$CPNSCTL" ] || ! command -v jq >/dev/null; then
	for i in "${!tests[@]}"; do
		echo "ok $((i + 1)) - ${tests[i]#t_} # SKIP needs $CPNSCTL and jq"
	done
	exit 4
fi
fail=0
for i in "${!tests[@]}"; do
	t=${tests[i]}
	if "$t"; then
		echo "ok $((i + 1)) - ${t#t_}"
	else
		echo "not ok $((i + 1)) - ${t#t_}"
		fail=1
		# without the module nothing else can work
		if [ "$t" = t_module ]; then
			for j in $(seq $((i + 2)) ${#tests[@]}); do
				echo "not ok $j - ${tests[j - 1]#t_} # module did not load"
			done
			exit 1
		fi
	fi
done
exit $fail
