#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cpnsd's listings on the host, on a registry of their own (no kernel
# module: adding, disabling and listing users touch only the registry):
# the text lines, and the same rows as JSON with -j (-p indents).
#
#   CPNSD=build/tools/cpnsd bash tools/tests/test_cpnsd_admin.sh
set -u
CPNSD=${CPNSD:-$(dirname "$0")/../../build/tools/cpnsd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0

ok() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
sd() { "$CPNSD" -s "$tmp/srv" "$@"; }
# same TEXT FILE: FILE holds exactly TEXT (diff as diagnostics)
same() {
	if [ "$1" = "$(cat "$2")" ]; then return 0; fi
	diff <(printf '%s\n' "$1") "$2" | sed 's/^/# /'
	return 1
}

umask 077
printf 'a password\n' >"$tmp/pw"
echo "TAP version 13"
sd user add alice 2>/dev/null &&
	sd user add 'bob x' password-file "$tmp/pw" 2>/dev/null &&
	sd user add "$(printf 'eve\nmallory')" 2>/dev/null &&
	sd user disable alice 2>/dev/null
ok $? "three users added, one disabled"

sd user list >"$tmp/out" 2>"$tmp/err"
same "alice no-password disabled
bob\\x20x
eve\\x0amallory no-password" "$tmp/out"
ok $? "user list: one line per user, spaces and control bytes as \\xHH"

sd -j user list >"$tmp/out" 2>"$tmp/err"
jq -e 'length == 3 and
       .[0] == {user: "alice", password: false, disabled: true} and
       .[1] == {user: "bob x", password: true, disabled: false} and
       .[2].user == "eve\\x0amallory"' "$tmp/out" >/dev/null &&
	[ "$(wc -l <"$tmp/out")" = 1 ]
ok $? "user list -j: an array of users on one line, a control byte as \\xHH"

sd -j -p user list >"$tmp/out" 2>"$tmp/err"
jq -e 'length == 3' "$tmp/out" >/dev/null && [ "$(wc -l <"$tmp/out")" -gt 3 ]
ok $? "user list -j -p: the same, indented"

sd entity list >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/out" ] &&
	sd -j entity list >"$tmp/out" 2>"$tmp/err" && same "[]" "$tmp/out"
ok $? "entity list: nothing, and [] in JSON"

sd audit list user-add >"$tmp/out" 2>"$tmp/err"
grep -Eq '^1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z user-add user alice$' "$tmp/out" &&
	[ "$(wc -l <"$tmp/out")" = 3 ]
ok $? "audit list EVENT: one line per row, ID TIME EVENT user U"

sd -j audit list >"$tmp/out" 2>"$tmp/err"
jq -e '[.[].event] == ["user-add", "user-add", "user-password", "user-add",
		      "user-disable"] and
       .[0].id == 1 and (.[0].time | test("^[0-9-]{10}T[0-9:]{8}Z$")) and
       .[3].user == "eve\\x0amallory" and (.[0] | has("entity") | not)' \
	"$tmp/out" >/dev/null
ok $? "audit list -j: every row, absent fields left out"

sd audit >"$tmp/out" 2>"$tmp/err" && same 5 "$tmp/out" &&
	sd -j audit user-add >"$tmp/out" 2>"$tmp/err" &&
	same '{"event":"user-add","count":3}' "$tmp/out" &&
	sd -j audit >"$tmp/out" 2>"$tmp/err" && same '{"count":5}' "$tmp/out"
ok $? "audit [EVENT]: the count, as a number or as JSON"

echo "1..$n"
exit $fail
