#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs inside each VM (see run.sh).
#
#   plan.sh stock|debug|debug-nokunit REPO BUILD [SELFTESTS [NAME...]]
#
# With NAMEs only those kselftests run (see selftests/run.sh);
# debug-nokunit is the debug plan without the KUnit module, for a second
# debug guest that takes a share of the kselftests.
# BUILD holds the modules built for this kernel (BUILD/mod/kernel/cpns.ko, and
# for the debug kernel BUILD/mod-kunit/kernel/cpns.ko with KUnit) and the
# selftests are in SELFTESTS (default REPO/build/selftests). Results are written to the current
# directory (the VM's output share).
set -u
flavour=$1 repo=$2 build=$3 ksft=${4:-$2/build/selftests}
shift 3
[ $# -gt 0 ] && shift
kunit=1
[ "$flavour" = debug-nokunit ] && { flavour=debug; kunit=0; }
out=$(pwd)
rc=0

tap_case() { # FILE N STATUS DESCRIPTION
	if [ "$3" = 0 ]; then echo "ok $2 - $4"; else echo "not ok $2 - $4"; fi >>"$1"
}

# What cpns.ko links against (udp_tunnel, and the ChaCha20 and Poly1305
# library of the CPU: modules on a distribution kernel, built in on the
# debug one), so that the tests can insmod it.
# shellcheck disable=SC2046
modprobe -a $(modinfo -F depends "$build/mod/kernel/cpns.ko" | tr , ' ') \
	veth 2>/dev/null

if [ "$flavour" = debug ]; then
	mount -t debugfs debugfs /sys/kernel/debug
	# Scans only where this plan asks for them: the automatic one
	# (a minute after boot, then every ten) would compete with the
	# tests for the guest's time.
	echo scan=off >/sys/kernel/debug/kmemleak
	echo "TAP version 13" >kmemleak.tap
	if [ $kunit = 1 ]; then
		echo "1..2" >>kmemleak.tap
		# A leak reported before the module was loaded is a kernel
		# configuration bug, reported on its own line. One guest
		# checks it: a scan costs tens of seconds under TCG.
		t0=$(date +%s)
		echo scan >/sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak >kmemleak-boot.txt
		echo "cpns-plan: kmemleak boot scan in $(($(date +%s) - t0)) s"
		[ -s kmemleak-boot.txt ] && cat kmemleak-boot.txt
		tap_case kmemleak.tap 1 "$([ -s kmemleak-boot.txt ] && echo 1 || echo 0)" \
			"debug kernel boots without kmemleak reports"
		leak_case=2
	else
		echo "1..1" >>kmemleak.tap
		leak_case=1
	fi

	# KUnit: the suites run while the module loads.
	dmesg -C
	if [ $kunit = 0 ]; then
		:
	elif t0=$(date +%s); insmod "$build/mod-kunit/kernel/cpns.ko"; then
		dmesg >kunit.log
		echo "cpns-plan: KUnit suites in $(($(date +%s) - t0)) s"
		rmmod cpns || rc=1
	else
		echo "not ok 1 - insmod of the KUnit module failed" >kunit.log
		rc=1
	fi
fi

CPNS_KO=$build/mod/kernel/cpns.ko CPNS_REPO=$repo \
	"$repo/selftests/run.sh" "$ksft" "$out/selftests" "$@" || rc=1
[ -d /sys/module/cpns ] && { rmmod cpns || rc=1; }

if [ "$flavour" = debug ]; then
	# kmemleak only reports objects older than 5 s; two scans, as its
	# documentation recommends.
	sleep 6
	t0=$(date +%s)
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >kmemleak.txt
	echo "cpns-plan: kmemleak scans in $(($(date +%s) - t0)) s"
	[ -s kmemleak.txt ] && { cat kmemleak.txt; rc=1; }
	tap_case kmemleak.tap $leak_case "$([ -s kmemleak.txt ] && echo 1 || echo 0)" \
		"no kmemleak reports after the tests"
fi
exit $rc
