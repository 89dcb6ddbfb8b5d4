#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Copy the tree of an ext4 disk image (the guest's cache disk) out with
# debugfs, without mounting it, and list every extended attribute.
#
#   kernel/read-disk.sh IMG OUTDIR
#
# OUTDIR/tree/     the files (debugfs rdump; lost+found skipped)
# OUTDIR/xattrs    one line per xattr: PATH<TAB>NAME<TAB>VALUE-IN-HEX
#                  (PATH relative to the disk root, e.g.
#                  /fscache/cache/Ierofs,foo/@73/Dfoo)
#
# If the guest could not unmount the disk, its journal may hold changes that
# debugfs does not see; the journal is therefore replayed first
# (e2fsck -E journal_only), as the kernel would on the next mount.

set -euo pipefail

die() { echo "kernel/read-disk.sh: error: $*" >&2; exit 1; }
[ $# = 2 ] || die "usage: kernel/read-disk.sh IMG OUTDIR"
img=$1
out=$2
[ -r "$img" ] || die "$img not found"
command -v debugfs >/dev/null || die "debugfs not found (apt-get install e2fsprogs)"

if dumpe2fs -h "$img" 2>/dev/null | grep -q '^Journal features:.*needs_recovery\|needs_recovery'; then
	e2fsck -E journal_only -y "$img" >/dev/null 2>&1 || true
fi

rm -rf "$out/tree"
mkdir -p "$out/tree"
debugfs -R "rdump / $out/tree" "$img" >/dev/null 2>"$out/debugfs.err" ||
	die "debugfs rdump failed: $(tail -n 2 "$out/debugfs.err")"
rm -rf "$out/tree/lost+found"

work=$(mktemp -d "${TMPDIR:-/tmp}/read-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. which xattrs exist (ea_list shows values in a lossy form; names only)
(cd "$out/tree" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\.||') > "$work/paths"
echo / >> "$work/paths"
sed 's|.*|ea_list "&"|' "$work/paths" > "$work/cmds1"
debugfs -f "$work/cmds1" "$img" > "$work/list" 2>/dev/null || true
awk '
	/^debugfs: ea_list / {
		path = substr($0, length("debugfs: ea_list ") + 1)
		gsub(/^"|"$/, "", path)
		next
	}
	/^  [^ ]+ \([0-9]+\)/ { print path "\t" $1 }
' "$work/list" > "$work/names"

# 2. every value, raw, through a file
: > "$work/cmds2"
n=0
while IFS=$'\t' read -r path name; do
	n=$((n + 1))
	echo "ea_get -f $work/v$n \"$path\" $name" >> "$work/cmds2"
done < "$work/names"
if [ "$n" -gt 0 ]; then
	debugfs -f "$work/cmds2" "$img" >/dev/null 2>&1 || true
fi
: > "$out/xattrs"
n=0
while IFS=$'\t' read -r path name; do
	n=$((n + 1))
	[ -f "$work/v$n" ] || die "could not read xattr $name of $path"
	printf '%s\t%s\t%s\n' "$path" "$name" \
		"$(od -An -v -tx1 "$work/v$n" | tr -d ' \n')" >> "$out/xattrs"
done < "$work/names"
