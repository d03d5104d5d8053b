#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages receiptd builds, tests and demos with.
# Idempotent: apt-get is skipped when everything is already installed.
set -eu

PKGS="build-essential autoconf automake libtool autoconf-archive pkg-config
 libssl-dev libsodium-dev libjson-c-dev liblmdb-dev libp11-kit-dev libarchive-dev libinih-dev
 libseccomp-dev libcunit1-dev softhsm2 opensc clang libclang-rt-14-dev valgrind cppcheck
 clang-format groff-base nodejs python3-nacl"
[ "${1:-}" = "--ci" ] && PKGS="$PKGS git xz-utils"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
