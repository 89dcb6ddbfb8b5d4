#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkfs.erofs and its output files (run as root or not):
#  * outputs that are the same file -- DEST, --blobdev, --manifest, by name
#    or as hard links -- or an output that is the source, are refused before
#    any work, with a message, nothing created and nothing overwritten; so
#    are a DEST that is a directory and a DEST name too long for the file
#    system (before the source is walked);
#  * a build ended by SIGINT, SIGTERM or SIGHUP leaves nothing behind, with
#    outputs created unlinked (O_TMPFILE) and with temporary names
#    (EROFS_NO_O_TMPFILE=1, the fallback for file systems without it);
#    SIGKILL leaves nothing where O_TMPFILE works.
#
# A build is held in the middle by reading its archive from a FIFO the test
# writes part of: the outputs exist (or are open, unlinked) and data has
# been read when the signal is sent; no timing is involved.
#
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
MKFS=$BUILD/mkfs/mkfs.erofs

if [ ! -x "$MKFS" ]; then
	nok "mkfs.erofs exists" "$MKFS not found (set BUILD)"
	exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkfs-outputs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
SRC=$WORK/src
mkdir -p "$SRC/d" "$WORK/out"
head -c 300000 /dev/urandom >"$SRC/d/f1"
echo small >"$SRC/d/f2"

# names in $WORK/out, one line
left() { ls -A "$WORK/out" | tr '\n' ' '; }

# refuse NAME PATTERN MKFS-ARGS...: exit != 0, message matches, out/ as before
refuse() {
	local name=$1 pat=$2 before rc
	shift 2
	before=$(left)
	"$MKFS" "$@" >"$WORK/log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		nok "refuse: $name" "exit 0"
	elif ! grep -q -- "$pat" "$WORK/log"; then
		nok "refuse: $name" "message lacks '$pat': $(head -c 300 "$WORK/log")"
	elif [ "$(left)" != "$before" ]; then
		nok "refuse: $name" "out/ changed: '$before' -> '$(left)'"
	else
		ok "refuse: $name (exit $rc)"
	fi
}

O=$WORK/out
refuse "--blobdev equal to DEST" "same file" \
	--chunksize 4096 --blobdev="$O/x.img" "$O/x.img" "$SRC"
refuse "--blobdev equal to DEST through another spelling" "same file" \
	--chunksize 4096 --blobdev="$WORK/out/../out/./x.img" "$O/x.img" "$SRC"
refuse "--manifest equal to DEST" "same file" \
	--manifest "$O/x.img" "$O/x.img" "$SRC"
refuse "--manifest equal to the blob" "same file" \
	--chunksize 4096 --blobdev="$O/x.blob" --manifest "$O/x.blob" \
	"$O/x.img" "$SRC"
echo keep >"$O/old.img"
ln "$O/old.img" "$O/link.img"
refuse "--blobdev a hard link of DEST" "same file" \
	--chunksize 4096 --blobdev="$O/link.img" "$O/old.img" "$SRC"
grep -qx keep "$O/old.img"
check "refuse: the existing DEST is untouched" test $? = 0
tar -C "$SRC" -cf "$O/src.tar" d
refuse "the archive SOURCE as --blobdev" "same file" \
	--chunksize 4096 --blobdev="$O/src.tar" "$O/x.img" "$O/src.tar"
refuse "the archive SOURCE as DEST" "same file" "$O/src.tar" "$O/src.tar"
tar -tf "$O/src.tar" >/dev/null 2>&1
check "refuse: the archive is intact" test $? = 0
refuse "DEST a directory" "is a directory" "$SRC/d" "$SRC"
rm -f "$O"/*
long=$O/$(printf 'n%.0s' $(seq 251)).img
# a big source: the refusal must not come after walking it
refuse "DEST name over 255 bytes, before the walk" "longer than 255" \
	"$long.x" /usr
# 255 bytes: its temporary name used to be too long, after the whole walk
"$MKFS" "$long" "$SRC" >"$WORK/log" 2>&1
check "a 255-byte DEST name works (unlinked output)" test -f "$long"
rm -f "$long"
EROFS_NO_O_TMPFILE=1 "$MKFS" "$long" "$SRC" >"$WORK/log" 2>&1
check "a 255-byte DEST name works (temporary name)" \
	test "$(left)" = "$(basename "$long") "
rm -f "$O"/*

# ------------------------------------------------------------ signals
SIGS="INT TERM HUP KILL"
tar -C "$SRC" -cf "$WORK/big.tar" d
head -c $((8 << 20)) /dev/urandom >"$SRC/d/big"
tar -C "$SRC" -cf "$WORK/big.tar" d

# is $1 (a pid) writing an output in out/ (a named or an unlinked file)?
writing() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "$WORK/out/"
}

signal_case() {
	local sig=$1 mode=$2 pid rc want
	rm -rf "$O" "$WORK/fifo"
	mkdir -p "$O"
	mkfifo "$WORK/fifo"
	if [ "$mode" = named ]; then
		EROFS_NO_O_TMPFILE=1 "$MKFS" --chunksize 65536 \
			--blobdev="$O/x.blob" --manifest "$O/x.json" \
			"$O/x.img" "$WORK/fifo" >"$WORK/log" 2>&1 &
	else
		"$MKFS" --chunksize 65536 --blobdev="$O/x.blob" \
			--manifest "$O/x.json" "$O/x.img" "$WORK/fifo" \
			>"$WORK/log" 2>&1 &
	fi
	pid=$!
	exec 3>"$WORK/fifo"
	# half of the archive: mkfs has read most of it when head returns
	head -c $((4 << 20)) "$WORK/big.tar" >&3
	if ! WAIT_TRIES=200 wait_for writing $pid; then
		nok "signal $sig ($mode): build in progress" \
			"mkfs has no output open: $(head -c 200 "$WORK/log")"
		kill -KILL $pid 2>/dev/null
		exec 3>&-
		wait $pid 2>/dev/null
		return
	fi
	if [ "$mode" = named ] && [ -z "$(left)" ]; then
		nok "signal $sig ($mode): temporary names exist" "none in out/"
	fi
	kill -"$sig" $pid
	exec 3>&-
	wait $pid
	rc=$?
	want=$((128 + $(kill -l "$sig")))
	if [ $rc != $want ]; then
		nok "signal $sig ($mode)" "exit $rc, expected $want"
	elif [ -n "$(left)" ]; then
		nok "signal $sig ($mode)" "left in DEST's directory: $(left)"
	else
		ok "signal $sig ($mode): killed by it, nothing left"
	fi
}

for sig in $SIGS; do
	signal_case "$sig" unlinked
	# with temporary names SIGKILL cannot be cleaned up after
	[ "$sig" = KILL ] || signal_case "$sig" named
done

# the same FIFO build, finished: it works and names the outputs
rm -rf "$O"
mkdir -p "$O"
EROFS_NO_O_TMPFILE=1 "$MKFS" --chunksize 65536 --blobdev="$O/x.blob" \
	--manifest "$O/x.json" "$O/x.img" - <"$WORK/big.tar" >"$WORK/log" 2>&1
check "named temporaries: a finished build leaves exactly its outputs" \
	test "$(left)" = "x.blob x.img x.json "
"$MKFS" --chunksize 65536 --blobdev="$O/x.blob" --manifest "$O/x.json" \
	"$O/x.img" - <"$WORK/big.tar" >"$WORK/log" 2>&1
check "unlinked outputs: a rebuild over existing outputs leaves exactly them" \
	test "$(left)" = "x.blob x.img x.json "

[ $fails = 0 ]
