#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the cpns kselftests (inside a test VM or on a machine where loading
# modules is fine): every built program under BUILD/cpns and every
# executable selftests/cpns/*.sh, each as root, each with its TAP output in
# OUTDIR/NAME.tap (also echoed to stdout).
#
#   run.sh BUILD OUTDIR [NAME...]
#
# Environment: CPNS_KO (the module to test), CPNS_REPO (the repository),
# CPNS_TEST_TIMEOUT (seconds per test program, default 1200).
set -u
build=$1 outdir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
export CPNS_REPO=${CPNS_REPO:-$(dirname "$here")}
mkdir -p "$outdir"
tests=()
for t in "$build"/cpns/* "$here"/cpns/*.sh; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$(basename "$t"); n=${n%.sh}
	if [ $# -gt 0 ]; then
		case " $* " in *" $n "*) ;; *) continue ;; esac
	fi
	tests+=("$t")
done
rc=0
for t in "${tests[@]}"; do
	n=$(basename "$t"); n=${n%.sh}
	echo "selftests: $n"
	t0=$(date +%s)
	timeout -k 5 "${CPNS_TEST_TIMEOUT:-1200}" "$t" >"$outdir/$n.tap" 2>&1
	r=$?
	echo "selftests: $n: status $r in $(($(date +%s) - t0)) s"
	sed "s/^/  $n: /" "$outdir/$n.tap"
	# A program that printed no TAP result still counts, by its status.
	if ! grep -qE '^(not )?ok [0-9]+' "$outdir/$n.tap"; then
		case $r in
		0) echo "ok 1 $n" ;;
		4) echo "ok 1 $n # SKIP exit status 4" ;;
		*) echo "not ok 1 $n (exit status $r)" ;;
		esac >>"$outdir/$n.tap"
	elif [ $r -ne 0 ] && [ $r -ne 4 ] && ! grep -q '^not ok' "$outdir/$n.tap"; then
		echo "not ok 999 $n exited with status $r" >>"$outdir/$n.tap"
	fi
	[ $r -eq 0 ] || [ $r -eq 4 ] || rc=1
done
exit $rc
