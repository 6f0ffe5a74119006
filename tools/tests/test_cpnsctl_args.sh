#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cpnsctl argument checking on the host, without the kernel module: every
# bad command line exits 1 with a usage message and never reaches
# netlink. To prove the last part whatever the host has loaded, the
# commands run with "-n <a namespace that does not exist>": cpnsctl
# enters the namespace only right before it opens its first socket, so a
# command that got that far fails with exit 2 ("cannot open network
# namespace") instead.
#
#   CPNSCTL=build/tools/cpnsctl bash tools/tests/test_cpnsctl_args.sh
set -u
CPNSCTL=${CPNSCTL:-$(dirname "$0")/../../build/tools/cpnsctl}
NONS=cpnsctl-test-no-such-netns-$$
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
ID1=1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b
ID2=2c6f3a9d0b1e4f808b7c6d5e4f3a2b1c
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

ok() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

# usage_case DESCRIPTION ARGS...: exit 1, "Usage" on stderr, nothing on
# stdout, no netlink
usage_case() {
	local desc=$1 rc
	shift
	"$CPNSCTL" -n "$NONS" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = 1 ] && grep -q '^Usage:' "$tmp/err" && [ ! -s "$tmp/out" ] &&
	   ! grep -q 'namespace\|module' "$tmp/err"; then
		ok 0 "usage: $desc"
	else
		ok 1 "usage: $desc (exit $rc)"
		sed 's/^/# /' "$tmp/err"
	fi
}

umask 077
printf '%s\n' "$KEY" >"$tmp/tx.key"
printf '%s\n' "$KEY" >"$tmp/rx.key"
printf '%s\n' "$KEY" >"$tmp/open.key"
chmod 0644 "$tmp/open.key"
printf 'nothex\n' >"$tmp/bad.key"
S="local $ID1 peer $ID2 generation 1 suite aes256gcm role initiator"

echo "TAP version 13"
usage_case "no object"
usage_case "unknown object" frobnicate
usage_case "object prefix is not accepted" sess show
usage_case "unknown option" -x info
usage_case "-n without a value" -n
usage_case "info takes no argument" info extra
usage_case "unknown command" link frob
usage_case "command prefix is not accepted" link sh
usage_case "keyword case matters" link SHOW
usage_case "link set with nothing" link set
usage_case "link set port 0" link set port 0
usage_case "link set port 65536" link set port 65536
usage_case "link set port with sign" link set port +5
usage_case "link set forwarding maybe" link set forwarding maybe
usage_case "link set port twice" link set port 1 port 2
usage_case "link set dangling keyword" link set port
usage_case "id add without ID" id add
usage_case "id add bad ID" id add 1234
usage_case "id add ID with braces" id add "{$ID1}"
usage_case "id add two IDs" id add "$ID1" "$ID2"
usage_case "id del bad ID" id del zz5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b
usage_case "id show extra" id show "$ID1"
usage_case "peer set without endpoint" peer set "$ID1"
usage_case "peer set bad endpoint" peer set "$ID1" endpoint 192.0.2.300:7870
usage_case "peer set IPv6 without brackets" peer set "$ID1" endpoint 2001:db8::1
usage_case "peer set host name" peer set "$ID1" endpoint localhost:7870
usage_case "peer set port 0" peer set "$ID1" endpoint 192.0.2.1:0
usage_case "peer set learn yes" peer set "$ID1" endpoint 192.0.2.1 learn yes
usage_case "peer set unknown keyword" peer set "$ID1" endpoint 192.0.2.1 lern on
usage_case "peer set uplink yes" peer set "$ID1" endpoint 192.0.2.1 uplink yes
usage_case "peer show two IDs" peer show "$ID1" "$ID2"
usage_case "route add without target" route add "$ID1"
usage_case "route add through" route add "$ID1" through "$ID2"
usage_case "route add via bad ID" route add "$ID1" via 12
usage_case "route del without PNE" route del
usage_case "route add via with learn" route add "$ID1" via "$ID2" learn on
usage_case "route add learn maybe" route add "$ID1" endpoint 192.0.2.1 learn maybe
usage_case "session add nothing" session add
usage_case "session add without secrets" session add $S
usage_case "session add generation 0" session add local $ID1 peer $ID2 generation 0 \
	suite aes256gcm role initiator tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add generation 256" session add local $ID1 peer $ID2 generation 256 \
	suite aes256gcm role initiator tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add unknown suite" session add local $ID1 peer $ID2 generation 1 \
	suite aes128gcm role initiator tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add unknown role" session add local $ID1 peer $ID2 generation 1 \
	suite aes256gcm role server tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add unknown mode" session add $S mode later \
	tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add both secrets from stdin" session add $S tx-secret - rx-secret -
usage_case "session add secret given twice" session add $S \
	tx-secret "$tmp/tx.key" tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key"
usage_case "session add secret on the command line" session add $S \
	tx-secret "$tmp/tx.key" rx-secret "$tmp/rx.key" $KEY
usage_case "session del without peer" session del local "$ID1"
usage_case "session del with suite" session del local "$ID1" peer "$ID2" suite aes256gcm
usage_case "session show bad filter" session show generation 1
usage_case "session flush extra" session flush now
usage_case "session flush bad local" session flush local 12
usage_case "stats unknown command" stats clear
usage_case "stats show extra" stats show all
usage_case "monitor extra" monitor all

# Key files are read before netlink: a refused one is a usage error (1)
# with the library's message, and never prints key material.
key_case() { # DESCRIPTION PATTERN TX-SPEC
	local rc
	"$CPNSCTL" -n "$NONS" session add $S tx-secret "$3" rx-secret "$tmp/rx.key" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc = 1 ] && grep -q "$2" "$tmp/err" && ! grep -qi "$KEY" "$tmp/err" \
	   && ! grep -q 'namespace' "$tmp/err"; then
		ok 0 "key: $1"
	else
		ok 1 "key: $1 (exit $rc)"
		sed 's/^/# /' "$tmp/err"
	fi
}
key_case "mode 0644 refused" "accessible by group or others" "$tmp/open.key"
key_case "missing file" "No such file" "$tmp/none.key"
key_case "not hex" "not a hexadecimal digit" "$tmp/bad.key"
key_case "directory" "not a regular file" "$tmp"
key_case "bad fd:N" "invalid file descriptor" "fd:x"

# Good arguments get as far as netlink: here, the namespace switch.
"$CPNSCTL" -n "$NONS" session add $S tx-secret "$tmp/tx.key" rx-secret - \
	<"$tmp/rx.key" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "cannot open network namespace" "$tmp/err"
ok $? "valid session add (secret from stdin) reaches the netlink step, exit 2"
"$CPNSCTL" -n "$NONS" session add $S tx-secret "fd:3" rx-secret "$tmp/rx.key" \
	3<"$tmp/tx.key" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ]
ok $? "valid session add with fd:N reaches the netlink step"
"$CPNSCTL" -n "$NONS" id add 1B5E2F8C-9A0D-4E7F-8A6B-5C4D3E2F1A0B >/dev/null 2>&1
ok $(($? != 2)) "UUID form of an ID is accepted"
"$CPNSCTL" -n "$NONS" id add ffffffffffffffffffffffffffffffff >/dev/null 2>&1
ok $(($? != 2)) "FF^16 is left for the kernel to refuse"
"$CPNSCTL" -n "$NONS" peer set "$ID1" endpoint "[2001:db8::1]:7870" learn on \
	>/dev/null 2>&1
ok $(($? != 2)) "IPv6 endpoint accepted"

# help and version: exit 0 on stdout
"$CPNSCTL" -h >"$tmp/out" 2>&1 && grep -q '^Usage:' "$tmp/out"
ok $? "-h prints the usage, exit 0"
"$CPNSCTL" session help >"$tmp/out" 2>&1 && grep -q 'tx-secret SPEC' "$tmp/out"
ok $? "session help, exit 0"
"$CPNSCTL" -V >"$tmp/out" 2>&1 && grep -q '^cpnsctl ' "$tmp/out"
ok $? "-V, exit 0"

# Batch: comments and blank lines skipped, stop at the first error with
# its line number; usage errors still exit 1.
cat >"$tmp/batch" <<EOF
# a comment

link help   # trailing comment
id add nothex
id add $ID1
EOF
"$CPNSCTL" -n "$NONS" -b "$tmp/batch" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "batch:4: command failed" "$tmp/err" &&
	! grep -q namespace "$tmp/err"
ok $? "batch: usage error on line 4 stops it, exit 1"
printf 'link help\n' >"$tmp/batch2"
"$CPNSCTL" -b "$tmp/batch2" >"$tmp/out" 2>&1
ok $? "batch: all lines fine, exit 0"
"$CPNSCTL" -b "$tmp/batch2" info >/dev/null 2>&1
ok $(($? != 1)) "batch: no OBJECT besides -b"
printf 'session add %s tx-secret - rx-secret %s\n' "$S" "$tmp/rx.key" >"$tmp/batch3"
"$CPNSCTL" -n "$NONS" -b - <"$tmp/batch3" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && grep -q "stdin is the batch file" "$tmp/err"
ok $? "batch from stdin: a secret from \"-\" is refused"
printf 'agent server %s\n' "$S" >"$tmp/batch4"
"$CPNSCTL" -n "$NONS" -b "$tmp/batch4" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && grep -q "not in a batch" "$tmp/err"
ok $? "batch: agent is refused (exit 1)"

echo "1..$n"
exit $fail
