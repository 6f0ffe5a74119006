#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages in scripts/debian-packages.txt that are
# missing. Idempotent. With --check, only report and exit 1 if any is
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(grep -v -e '^#' -e '^$' "$here/debian-packages.txt")
missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in ii*) ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# Update the lists once a day at most; an install that fails on stale
# lists is retried after a fresh update.
if [ ! -e /var/lib/apt/lists/lock ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
	$sudo apt-get update -q >&2
fi
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
	$sudo apt-get update -q >&2
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
