#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) the cpns debug kernel: Debian's linux-source
# with a tinyconfig-based configuration plus debug.config (KUnit, KASAN,
# kmemleak, lockdep). Prints the cache directory on stdout; it holds
#   bzImage      the kernel
#   obj/         the O= build tree, prepared for out-of-tree modules
#   selftests/   kselftest.h and kselftest_harness.h from the same source
#
# The cache lives outside the repository, keyed by the configuration
# fragment, the linux-source package version and this recipe's version.
set -euo pipefail

RECIPE=2
here=$(cd "$(dirname "$0")" && pwd)
frag="$here/debug.config"
cache_root=${CPNS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpns}
jobs=${CPNS_JOBS:-$(($(nproc) + 1))}

tarball=$(ls -1 /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
	echo "build-kernel: no /usr/src/linux-source-*.tar.xz (run 'make deps')" >&2
	exit 1
fi
pkg=$(basename "$tarball" .tar.xz)
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c %Y "$tarball")
key=$( { echo "recipe $RECIPE"; echo "$pkg $srcver"; cat "$frag"; } | sha256sum | cut -c1-16)
dir="$cache_root/kernel-$key"

# Module.symvers of the kernel, so that modpost resolves the symbols of
# out-of-tree modules (a cache from before this step lacks it).
symvers() {
	[ -f "$dir/obj/Module.symvers" ] && [ -s "$dir/obj/Module.symvers" ] ||
		make -s -C "$dir/src" O="$dir/obj" ARCH=x86_64 -j"$jobs" modules >&2
}

# Each build takes about 2 GB: keep the two used last, drop older ones
# (a build in progress has no "used" mark and is never dropped).
used() {
	touch "$dir/used"
	ls -1dt "$cache_root"/kernel-*/used 2>/dev/null | tail -n +3 |
		while read -r u; do
			old=$(dirname "$u")
			rm -rf "$old" "$old.lock"
		done
}

if [ -f "$dir/done" ]; then
	exec 9>"$dir.lock"
	flock 9
	symvers
	used
	echo "$dir"
	exit 0
fi

# One build at a time; a second caller waits and then finds it done.
mkdir -p "$cache_root"
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/done" ]; then
	used
	echo "$dir"
	exit 0
fi

log() { echo "build-kernel: $*" >&2; }
rm -rf "$dir"
mkdir -p "$dir"
log "building debug kernel $pkg ($srcver) into $dir, -j$jobs"
start=$(date +%s)

tar -C "$dir" -xf "$tarball"
mv "$dir/$pkg" "$dir/src"
mkdir -p "$dir/obj"
(
	cd "$dir/src"
	make -s O="$dir/obj" ARCH=x86_64 tinyconfig >"$dir/config.log" 2>&1
	scripts/kconfig/merge_config.sh -m -O "$dir/obj" "$dir/obj/.config" "$frag" >>"$dir/config.log" 2>&1
	make -s O="$dir/obj" ARCH=x86_64 olddefconfig >>"$dir/config.log" 2>&1
)

# A fragment line that olddefconfig dropped is a configuration bug: fail
# now rather than boot a kernel without the debug option.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	if ! grep -qx -- "$line" "$dir/obj/.config"; then
		log "config: '$line' did not survive olddefconfig"
		missing=1
	fi
done <"$frag"
[ "$missing" = 0 ] || exit 1

make -s -C "$dir/src" O="$dir/obj" ARCH=x86_64 -j"$jobs" bzImage >&2
make -s -C "$dir/src" O="$dir/obj" ARCH=x86_64 -j"$jobs" modules_prepare >&2
symvers
cp "$dir/obj/arch/x86/boot/bzImage" "$dir/bzImage"
mkdir -p "$dir/selftests"
cp "$dir/src/tools/testing/selftests/kselftest.h" \
   "$dir/src/tools/testing/selftests/kselftest_harness.h" "$dir/selftests/"
# Keep the object tree (needed for modules) but not the unpacked source's
# bulk beyond what out-of-tree builds read: the O= tree points into src.
touch "$dir/done"
used
log "done in $(($(date +%s) - start)) s"
echo "$dir"
