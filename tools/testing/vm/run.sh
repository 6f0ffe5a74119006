#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel in qemu and run a test plan inside it.
#
#   run.sh --kernel BZIMAGE --plan SCRIPT --out DIR [options] [-- ARGS...]
#
# The guest sees the host's root file system read-only over 9p (so every
# host tool and the repository are there at the same paths), tmpfs on /tmp
# and /run, and DIR read-write at /run/cpns-out. The plan runs as
# `sh SCRIPT ARGS...` with that directory as its working directory, and
# should leave its results there. The whole guest console goes to
# DIR/console.log. DIR/vm.tap gets two test cases of the runner's own:
# the guest finished (exit status of the plan, no timeout) and the
# kernel log is clean (no BUG, WARNING, KASAN, lockdep, RCU or kmemleak
# report, no oops or panic).
#
# Options:
#   --modules KVER   load the virtio/9p modules of /lib/modules/KVER in the
#                    initramfs (a distribution kernel; a kernel with them
#                    built in needs none)
#   --timeout SEC    kill the guest after SEC seconds (default 600)
#   --mem MB         guest memory (default 2048)
#   --smp N          guest CPUs (default: the host's, at most 4)
#   --name NAME      label for the TAP cases (default: the kernel's name)
#   --env K=V        export K=V to the plan (repeatable)
#   --share DIR      also mount host directory DIR (read-only) at the same
#                    path, over the guest's tmpfs /tmp and /run (repeatable;
#                    needed for anything the plan uses below /tmp or /run)
#   --kvm            use KVM when a quick probe proves it works (default TCG)
#
# Exit status: the plan's exit status; 124 on timeout; 125 when the guest
# ended without reporting one (crash, panic); 126 when the kernel log is
# not clean; 2 on usage errors.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernel= plan= out= modules= timeout=600 mem=2048 name= kvm=0
smp=$(nproc); [ "$smp" -gt 4 ] && smp=4
envs=()
shares=()
usage() { sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--plan) plan=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--share) shares+=("$(realpath "$2")"); shift 2 ;;
	--kvm) kvm=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[ -n "$kernel" ] && [ -n "$plan" ] && [ -n "$out" ] || usage
[ -r "$kernel" ] || { echo "run.sh: cannot read kernel '$kernel'" >&2; exit 2; }
[ -r "$plan" ] || { echo "run.sh: cannot read plan '$plan'" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "run.sh: qemu-system-x86_64 missing (make deps)" >&2; exit 2; }
[ -x /bin/busybox ] || { echo "run.sh: /bin/busybox missing (make deps: busybox-static)" >&2; exit 2; }
name=${name:-$(basename "$kernel")}
plan=$(realpath "$plan")

mkdir -p "$out"
out=$(realpath "$out")
rm -f "$out/rc" "$out/console.log" "$out/vm.tap" "$out/env"

# --- initramfs -------------------------------------------------------------
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$ird/bin/busybox"
: >"$ird/modules.list"
: >"$ird/shares.list"
i=0
for d in "${shares[@]}"; do
	echo "share$i $d" >>"$ird/shares.list"
	i=$((i + 1))
done
if [ -n "$modules" ]; then
	for m in virtio_pci virtio_rng 9pnet_virtio 9p; do
		modprobe -S "$modules" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		cp "$ko" "$ird/lib/modules/"
		basename "$ko" >>"$ird/modules.list"
	done
fi
cat >"$ird/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.list); do insmod /lib/modules/$m || echo "init: insmod $m failed"; done
o=trans=virtio,version=9p2000.L,msize=262144
# The host root and the shares are read-only and do not change while the
# guest runs, so the guest may cache them (every exec otherwise looks up
# the binary and its libraries over 9p: 4x slower under TCG). The output
# share is written by the guest and read by the host: no cache.
if ! mount -t 9p -o $o,ro,cache=loose hostroot /newroot; then
	echo "init: cannot mount the host root over 9p"; reboot -f
fi
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/run/cpns-out
mount -t 9p -o $o out /newroot/run/cpns-out
while read -r tag path; do
	mkdir -p "/newroot$path" 2>/dev/null
	mount -t 9p -o $o,ro,cache=loose "$tag" "/newroot$path" || echo "init: cannot mount $path"
done </shares.list
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh /run/cpns-out/.guest-init
INIT
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.gz"

# --- what runs after switch_root ---------------------------------------------
{
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/tmp CPNS_VM=1 CPNS_VM_NAME=$(printf %q "$name")"
	for e in "${envs[@]}"; do echo "export $(printf %q "$e")"; done
} >"$out/env"
cp "$plan" "$out/.plan.sh"
: >"$out/.args"
[ $# -gt 0 ] && printf '%q ' "$@" >"$out/.args"
cat >"$out/.guest-init" <<'GUEST'
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
. /run/cpns-out/env
cd /run/cpns-out
echo "cpns-vm: running plan $(cat .args)"
eval "sh /run/cpns-out/.plan.sh $(cat .args)" </dev/null
rc=$?
echo "cpns-vm: plan exited with $rc"
echo $rc >/run/cpns-out/rc
sync
/bin/busybox reboot -f
GUEST

# --- accelerator -------------------------------------------------------------
accel=(-accel tcg -cpu max)
if [ "$kvm" = 1 ] && [ -w /dev/kvm ] &&
   timeout 20 qemu-system-x86_64 -accel kvm -display none -nodefaults \
	-no-reboot -kernel /dev/null -m 64 >/dev/null 2>&1 </dev/null; then
	accel=(-accel kvm -cpu host)
fi

share_args=()
i=0
for d in "${shares[@]}"; do
	share_args+=(-fsdev "local,id=share$i,path=$d,security_model=none,readonly=on,multidevs=remap"
		     -device "virtio-9p-pci,fsdev=share$i,mount_tag=share$i")
	i=$((i + 1))
done

# --- boot ----------------------------------------------------------------------
# mitigations=off: a test guest runs nothing untrusted, and under TCG the
# speculation mitigations double the cost of every system call.
start=$(date +%s)
set +e
timeout -k 10 "$timeout" qemu-system-x86_64 "${accel[@]}" \
	-m "$mem" -smp "$smp" -nodefaults -no-reboot -display none \
	-serial "file:$out/console.log" \
	-kernel "$kernel" -initrd "$out/initramfs.gz" \
	-append "console=ttyS0 panic=-1 loglevel=6 log_buf_len=8M rcupdate.rcu_cpu_stall_timeout=120 nokaslr mitigations=off" \
	-device virtio-rng-pci \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
	-fsdev local,id=out,path="$out",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=out,mount_tag=out \
	"${share_args[@]}" \
	</dev/null >"$out/qemu.log" 2>&1
qrc=$?
set -e
secs=$(($(date +%s) - start))

rc=125
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	rc=124
	echo "run.sh: $name: timed out after $timeout s" >&2
elif [ -s "$out/rc" ]; then
	rc=$(cat "$out/rc")
else
	echo "run.sh: $name: guest ended without a result (qemu exit $qrc)" >&2
	tail -n 40 "$out/qemu.log" "$out/console.log" >&2 || true
fi

# --- the kernel log must be clean ------------------------------------------------
pattern='BUG:|WARNING:|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|Oops|Kernel panic|general protection fault|Call Trace:|stack-protector'
bad=$(grep -E -n "$pattern" "$out/console.log" 2>/dev/null | head -n 20 || true)
{
	echo "TAP version 13"
	echo "1..2"
	if [ "$rc" = 0 ]; then
		echo "ok 1 - $name: guest plan finished (${secs}s)"
	else
		echo "not ok 1 - $name: guest plan finished (status $rc, ${secs}s)"
	fi
	if [ -z "$bad" ] && [ -s "$out/console.log" ]; then
		echo "ok 2 - $name: kernel log clean"
	else
		echo "not ok 2 - $name: kernel log clean"
		printf '%s\n' "$bad" | sed 's/^/# /'
	fi
} >"$out/vm.tap"
if [ -n "$bad" ]; then
	echo "run.sh: $name: kernel reports in $out/console.log:" >&2
	printf '%s\n' "$bad" >&2
	[ "$rc" = 0 ] && rc=126
fi
echo "run.sh: $name: status $rc in ${secs}s, console log $out/console.log" >&2
exit "$rc"
