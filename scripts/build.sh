#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Configures and builds erofs-ondemand in $1 (default: build/), with warnings
# as errors.  Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
[ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	find . -name Makefile.am -newer configure | grep -q .; then
	autoreconf -fi >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ] ||
	[ "$*" != "$(cat .configure-args 2>/dev/null)" ]; then
	"$top/configure" -q --enable-werror "$@" >/dev/null
	echo "$*" > .configure-args
fi
make -s -j"$(nproc)" >/dev/null
