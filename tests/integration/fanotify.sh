#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fanotify backend of erofs-fetchd on the host kernel (Linux 6.14+
# pre-content hooks, file-backed EROFS mounts), mounted through
# erofs-mount with the cache on a loop-mounted ext4: a metadata walk
# fetches nothing; the whole tree equals the source field by field; a
# re-read after drop_caches fetches nothing; a worker SIGKILLed, or
# SIGTERMed by another process, is restarted; the worker SIGKILLed while a
# read waits on a stalled source gives the reader its bytes or EIO, never
# zeros, also when it died before recording the events it read, and the
# restarted worker serves every later read right; a source
# that vanishes mid-read gives EIO, not a hang; a tmpfs cache is refused
# naming the filesystem.
#   BUILD=/path/to/build tests/integration/fanotify.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/lazy-common.sh"

lazy_need
if ! grep -q ' 6\.1[4-9]\.\| [7-9]\.' <(echo " $(uname -r)"); then
	skip "fanotify backend" "kernel $(uname -r) has no pre-content hooks (6.14+)"
	exit 0
fi
lazy_setup

# ---- a local source ----
check "lazy mount from a local directory" lazy_mount a "$IMG"
check "erofs-mount says which backend it chose" \
	grep -q 'backend fanotify' "$T/a.mount.log"
find "$T/mnt/a" -exec stat {} + >/dev/null
ls -lR "$T/mnt/a" >/dev/null
check "a metadata walk fetches no blob bytes" [ "$(present_bytes a)" = 0 ]
check "sparse blob in the cache dir" \
	[ "$(stat -c %s "$T/cache/a/blobs/$TAG")" = "$(stat -c %s "$BLOBS/img.blob")" ]
$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/a" >"$T/cmp-a.log" 2>&1
check "the whole tree equals the source ($(tail -n1 "$T/cmp-a.log"))" \
	[ $? -eq 0 ]
check "the complete blob lost its mark" \
	grep -q "blob $TAG complete" "$T/cache/a/erofs-fetchd.log"
check "blob bytes equal the source blob" cmp "$T/cache/a/blobs/$TAG" "$BLOBS/img.blob"
emount -u "$T/mnt/a" >/dev/null 2>&1
check "unmounted" bash -c "! mountpoint -q '$T/mnt/a'"
check "the daemon exits with its last image" \
	wait_for grep -q 'supervisor: daemon exited (status 0); stopping' \
	"$T/cache/a/erofs-fetchd.log"
check "its control socket is gone" test ! -e "$T/cache/a/.erofs-fetchd.sock"

# ---- drop_caches: what was filled is known ----
lazy_mount b "$IMG"
dd if="$T/mnt/b/big" of="$T/b1" bs=64k count=16 status=none
before=$(fetched_bytes b)
drop_caches
dd if="$T/mnt/b/big" of="$T/b2" bs=64k count=16 status=none
after=$(fetched_bytes b)
check "partial read is right" cmp -n $((1 << 20)) "$T/b1" "$SRC/big"
check "re-read after drop_caches fetches nothing ($before -> $after bytes)" \
	both [ -n "$before" -a "$before" = "$after" ] -- cmp "$T/b1" "$T/b2"
# a restarted worker knows it from the file (SEEK_DATA)
kill -KILL "$(worker_pid b)"
check "a killed worker is restarted by its supervisor" \
	wait_for bash -c "[ \$(grep -c 'started daemon pid' '$T/cache/b/erofs-fetchd.log') -ge 2 ]"
sleep 0.5
drop_caches
dd if="$T/mnt/b/big" of="$T/b3" bs=64k count=16 status=none
check "after a restart the same read fetches nothing" \
	both cmp "$T/b1" "$T/b3" -- [ "$(fetched_bytes b)" = 0 ]
# SIGTERM sent to the worker by someone else: a crash, not a stop
w=$(worker_pid b)
kill -TERM "$w"
check "a worker SIGTERMed by another process exits with 143 and is restarted" \
	wait_for both grep -q "stopped by someone else's signal, status 143; restart" \
	"$T/cache/b/erofs-fetchd.log" -- \
	bash -c "[ \$(grep -c 'started daemon pid' '$T/cache/b/erofs-fetchd.log') -ge 3 ]"
check "... the supervisor did not stop" \
	bash -c "! grep -q 'stopping' '$T/cache/b/erofs-fetchd.log'"
sleep 0.5
drop_caches
check "... and the new worker serves the mount" cmp "$T/mnt/b/big" "$SRC/big"
emount -u "$T/mnt/b" >/dev/null 2>&1
check "-u still stops the service cleanly" \
	wait_for grep -q 'supervisor: daemon exited (status 0); stopping' \
	"$T/cache/b/erofs-fetchd.log"

# stalled_read NAME: with the source stalled, a reader (dd) of mount
# NAME's big file into $T/NAME1 waits for its fetch; sets reader
stalled_read() {
	touch "$T/stalled/.stall"
	dd if="$T/mnt/$1/big" of="$T/${1}1" bs=1M status=none \
		2>"$T/${1}1.err" &
	reader=$!
	sleep 1.5
	check "the reader waits for the stalled fetch" kill -0 $reader
}
# reader_outcome NAME: after its worker died, stalled_read NAME's reader
# ends once the source answers again (events the dead worker had not read
# wait for its successor) with every byte right or EIO (one on readahead
# is retried by the kernel with a read of its own, which the restarted
# worker serves), and what it got is right, never zeros
reader_outcome() {
	local out=$T/${1}1 rc got
	sleep 2
	rm -f "$T/stalled/.stall"
	WAIT_TRIES=600 wait_for bash -c "! kill -0 $reader 2>/dev/null"
	check "the reader is not left hanging" bash -c "! kill -0 $reader 2>/dev/null"
	wait $reader
	rc=$?
	got=$(stat -c %s "$out")
	if [ $rc -eq 0 ]; then
		check "the reader got every byte right" cmp "$out" "$SRC/big"
	else
		check "the reader got EIO (status $rc: $(cat "$out.err"))" \
			grep -q 'Input/output error' "$out.err"
	fi
	check "what it got is right, never zeros ($got bytes)" \
		cmp -n "$got" "$out" "$SRC/big"
}

# ---- SIGKILL the worker while a read waits ----
mkdir -p "$T/stalled"
cp "$BLOBS/img.blob" "$BLOBS/img.boot" "$IMG" "$T/stalled/"
start_stall "$T/stalled"
lazy_mount c "$T/stalled/img.json" --source "http://127.0.0.1:$STALL_PORT/"
check "lazy mount from a stalling HTTP source" mountpoint -q "$T/mnt/c"
stalled_read c
w1=$(worker_pid c)
kill -9 "$w1"
check "supervisor answered the dead worker's events with EIO" \
	wait_for grep -q 'answered .* events the daemon left with EIO' \
	"$T/cache/c/erofs-fetchd.log"
reader_outcome c
check "the worker is restarted" \
	wait_for bash -c "[ \$(grep -c 'started daemon pid' '$T/cache/c/erofs-fetchd.log') -ge 2 ]"
sleep 0.5
check "every later read is right" cmp "$T/mnt/c/big" "$SRC/big"
$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/c" >"$T/cmp-c.log" 2>&1
check "the whole tree is right after the crash ($(tail -n1 "$T/cmp-c.log"))" \
	[ $? -eq 0 ]
emount -u "$T/mnt/c" >/dev/null 2>&1

# ---- the worker dies between read() and its record ----
# The same stalled read; then the worker's shared table is cleared, which
# is the state after a death between its read(2) and its record (the
# events are read, pending on the group, and nobody knows their fd
# numbers), and it is SIGKILLed.  The supervisor's sweep must answer them.
lazy_mount g "$T/stalled/img.json" --source "http://127.0.0.1:$STALL_PORT/"
stalled_read g
w=$(worker_pid g)
pfd=$(tr '\0' '\n' <"/proc/$w/cmdline" | grep -A1 -x -- --pending-fd | tail -n1)
recorded=$(od -An -v -tx1 "/proc/$w/fd/$pfd" | tr -s ' ' '\n' | grep -cv '^0*$')
check "the worker recorded the events it read ($recorded table bytes set)" \
	[ "$recorded" -gt 0 ]
dd if=/dev/zero of="/proc/$w/fd/$pfd" bs=131072 count=1 conv=notrunc status=none
check "... then its table is cleared" \
	[ "$(od -An -v -tx1 "/proc/$w/fd/$pfd" | tr -s ' ' '\n' | grep -cv '^0*$')" = 0 ]
kill -9 "$w"
check "the supervisor finds and answers the unrecorded events with EIO" \
	wait_for grep -q 'answered [1-9][0-9]* events the daemon left with EIO ([1-9][0-9]* read but not recorded yet)' \
	"$T/cache/g/erofs-fetchd.log"
reader_outcome g
check "the restarted worker serves every later read right" \
	wait_for cmp "$T/mnt/g/big" "$SRC/big"
emount -u "$T/mnt/g" >/dev/null 2>&1

# ---- the source vanishes mid-read ----
mkdir -p "$T/vanish"
cp "$BLOBS/img.blob" "$BLOBS/img.boot" "$IMG" "$T/vanish/"
lazy_mount d "$T/vanish/img.json"
dd if="$T/mnt/d/big" of="$T/d1" bs=64k count=4 status=none
check "read before the source vanished is right" cmp -n 262144 "$T/d1" "$SRC/big"
rm -f "$T/vanish/img.blob"
timeout 120 cat "$T/mnt/d/big" >"$T/d2" 2>"$T/d2.err"
rc=$?
check "source gone mid-read: EIO, not a hang (status $rc)" \
	both [ $rc -eq 1 ] -- grep -q 'Input/output error' "$T/d2.err"
check "bytes before the error are right" cmp -n "$(stat -c %s "$T/d2")" "$T/d2" "$SRC/big"
emount -u "$T/mnt/d" >/dev/null 2>&1

# ---- a tmpfs cache is refused ----
mkdir -p "$T/tmpfs" "$T/mnt/e"
mount -t tmpfs tmpfs "$T/tmpfs"
emount --cache-dir "$T/tmpfs" "$IMG" "$T/mnt/e" >"$T/e.log" 2>&1
rc=$?
check "erofs-mount refuses a cache on tmpfs, naming it (status $rc)" \
	both [ $rc -eq 1 ] -- grep -q 'on tmpfs' "$T/e.log"
check "nothing mounted" bash -c "! mountpoint -q '$T/mnt/e'"
"$FETCHD" --backend fanotify --cache-dir "$T/tmpfs" --manifest "$IMG" \
	--source "$BLOBS" >"$T/e2.log" 2>&1
rc=$?
check "erofs-fetchd refuses it too (status $rc)" \
	both [ $rc -eq 1 ] -- grep -q 'on tmpfs' "$T/e2.log"

# ---- the service manager's fd store keeps the group ----
$PY "$LIB/notifysock.py" "$T/notify.sock" 3 "$T/notify.out" &
LAZY_PIDS+=($!)
wait_for test -S "$T/notify.sock"
mkdir -p "$T/cache/f"
NOTIFY_SOCKET=$T/notify.sock "$FETCHD" --backend fanotify \
	--cache-dir "$T/cache/f" --manifest "$IMG" --source "$BLOBS" \
	>"$T/f.log" 2>&1 &
f=$!
LAZY_PIDS+=($f)
wait_for grep -q READY=1 "$T/notify.out"
check "FDSTORE=1 hands the fanotify group to the service manager" \
	grep -q 'FDSTORE=1\\nFDNAME=erofs-fanotify-group anon_inode:\[fanotify\]' "$T/notify.out"
check "... and the pending-event table" \
	grep -q 'FDNAME=erofs-fanotify-pending /memfd:' "$T/notify.out"
check "READY=1 once the blobs are marked" grep -q 'READY=1' "$T/notify.out"
kill -TERM $f
wait $f

echo "fanotify: $fails failed"
[ "$fails" -eq 0 ]
