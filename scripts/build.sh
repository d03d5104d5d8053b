#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Configures and builds receiptd in build/ (out of tree) with warnings as
# errors.  Extra arguments go to configure.  BUILD_DIR overrides build/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bdir=${BUILD_DIR:-$top/build}

cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p "$bdir"
cd "$bdir"
if [ ! -f Makefile ] || [ "${RECONFIGURE:-}" = 1 ]; then
	"$top/configure" --enable-strict "$@" >configure.out ||
		{ cat configure.out; exit 1; }
fi
make -j"$(nproc)" >make.out 2>&1 || { tail -n 60 make.out; exit 1; }
