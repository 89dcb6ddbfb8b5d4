#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# "make install" puts the tools, man pages, liberofs, its headers and
# liberofs.pc in place, and a program builds against the installed library
# through pkg-config.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok - $name"
	else
		echo "not ok - $name: $(tail -3 "$tmp/out" | tr '\n' ' ')"
		fails=$((fails + 1))
	fi
}

dest=$tmp/root
prefix=/usr/local
check "make install" make -C "$BUILD" -s install DESTDIR="$dest"
for f in bin/mkfs.erofs bin/erofs-cookies bin/erofs-fetchd \
	share/man/man1/mkfs.erofs.1 share/man/man1/erofs-cookies.1 \
	share/man/man1/erofs-fetchd.1 include/erofs/ondisk.h \
	include/erofs/build.h lib/liberofs.so lib/pkgconfig/liberofs.pc; do
	check "installed $f" test -e "$dest$prefix/$f"
done

cat >"$tmp/use.c" <<'C'
#include <stdio.h>
#include <erofs/ondisk.h>
#include <erofs/util.h>
int main(void)
{
	char hex[9];
	uint8_t b[4];

	erofs_put_le32(b, EROFS_SUPER_MAGIC);
	erofs_hex(hex, b, 4);
	puts(hex);
	return 0;
}
C
pc=$dest$prefix/lib/pkgconfig
cflags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$pc pkg-config --cflags liberofs)
libs=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$pc pkg-config --libs liberofs)
check "build against liberofs via pkg-config" \
	gcc -o "$tmp/use" "$tmp/use.c" $cflags $libs
if [ -x "$tmp/use" ]; then
	out=$(LD_LIBRARY_PATH=$dest$prefix/lib "$tmp/use")
	check "program linked to liberofs runs" test "$out" = "e2e1f5e0"
fi
check "installed mkfs.erofs --version" \
	env LD_LIBRARY_PATH="$dest$prefix/lib" "$dest$prefix/bin/mkfs.erofs" --version
[ "$fails" -eq 0 ]
