#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test of the erofs-fetchd process machinery on a host without
# cachefiles: /dev/null stands in for the device (commands are accepted,
# reads find no message), which exercises option handling, pidfile, SIGUSR1
# statistics, clean SIGTERM shutdown, garbage-collection wiring, and the
# supervisor: the device fd inherited with --devfd, "restore" on every
# start, restart after the daemon is killed, signal forwarding, and giving
# up after --max-restarts.  The protocol itself is covered by the unit tests
# and, against a real kernel, by the kernel suite.
#   BUILD=/path/to/build tests/integration/fetchd-daemon.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
FD=$BUILD/fetchd/erofs-fetchd
# the host may offer fanotify: this script is about the cachefiles backend
CF="--backend cachefiles"


T=$(mktemp -d "${TMPDIR:-/tmp}/fetchd-daemon.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	# children of a supervisor that was killed
	[ -f "$T/sv.log" ] && for p in $(sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' "$T/sv.log"); do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$FD" ]; then
	nok "erofs-fetchd built" "$FD missing"
	exit 1
fi

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
not_grep() { ! grep -q "$@"; }

mkdir -p "$T/cache" "$T/blobs"

# ---- plain daemon ----
"$FD" $CF --cache-dir "$T/cache" --source "$T/blobs" --device /dev/null \
	--pidfile "$T/pid" --stats-interval 1 >"$T/d.log" 2>&1 &
D=$!
PIDS+=("$D")
check "daemon writes its pidfile" wait_for test -s "$T/pid"
check "pidfile holds the daemon's pid" [ "$(cat "$T/pid" 2>/dev/null)" = "$D" ]
check "daemon bound the cache dir" wait_for grep -q "bound $T/cache" "$T/d.log"
check "--stats-interval logs statistics" \
	wait_for grep -q 'stats (periodic)' "$T/d.log"
kill -USR1 "$D"
check "SIGUSR1 logs statistics" wait_for grep -q 'stats (SIGUSR1)' "$T/d.log"
check "daemon survives SIGUSR1" alive "$D"
kill -TERM "$D"
wait "$D"
rc=$?
check "SIGTERM: clean exit (status $rc)" [ $rc -eq 0 ]
check "SIGTERM: statistics at exit" grep -q 'stats (exit)' "$T/d.log"
check "SIGTERM: pidfile removed" [ ! -e "$T/pid" ]

# ---- errors ----
"$FD" $CF --cache-dir "$T/cache" --source "$T/blobs" \
	--device "$T/no-such-device" >"$T/e1.log" 2>&1
rc=$?
check "missing device: exit 1 ($rc) with a message" \
	both [ $rc -eq 1 ] -- grep -q 'no-such-device' "$T/e1.log"
"$FD" $CF --cache-dir "$T/cache" --source "$T/blobs" --devfd 77 \
	>"$T/e2.log" 2>&1
check "--devfd of a closed fd refused" [ $? -eq 1 ]
"$FD" $CF --cache-dir "$T/no-such-dir" --source "$T/blobs" \
	--device /dev/null >"$T/e3.log" 2>&1
check "missing cache dir refused" [ $? -eq 1 ]
"$FD" $CF --cache-dir "$T/cache" --source "$T/no-such-src" \
	--device /dev/null >"$T/e4.log" 2>&1
check "missing source dir refused" [ $? -eq 1 ]
"$FD" $CF --cache-dir "$T/cache" --source "$T/blobs" --manifest "$T/nope.json" \
	--device /dev/null >"$T/e5.log" 2>&1
check "missing manifest refused" [ $? -eq 1 ]
"$FD" $CF --supervise --devfd 3 --cache-dir "$T/cache" --source "$T/blobs" \
	>/dev/null 2>&1
check "--supervise with --devfd refused (exit 2)" [ $? -eq 2 ]

# ---- garbage collection wiring ----
fan="$T/gc/cache/Ierofs,img/@5c"
mkdir -p "$fan" "$T/gc/graveyard/old/deeper"
touch -d '3 days ago' "$fan/Dold"
touch "$fan/Dnew" "$T/gc/graveyard/old/deeper/f"
"$FD" $CF --cache-dir "$T/gc" --source "$T/blobs" --device /dev/null \
	--cull-age 3600 >"$T/gc.log" 2>&1 &
G=$!
PIDS+=("$G")
check "old cache file culled" wait_for grep -q 'culled .*@5c/Dold' "$T/gc.log"
check "recent cache file kept" bash -c "! grep -q Dnew '$T/gc.log'"
check "graveyard emptied" wait_for test ! -e "$T/gc/graveyard/old"
kill -TERM "$G"
wait "$G"
check "gc daemon clean exit" [ $? -eq 0 ]

# ---- supervisor ----
"$FD" $CF --supervise --max-restarts 3 --cache-dir "$T/cache" \
	--source "$T/blobs" --device /dev/null --pidfile "$T/svpid" \
	>"$T/sv.log" 2>&1 &
S=$!
PIDS+=("$S")
child() { sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' "$T/sv.log" |
	sed -n "${1}p"; }
has_child() { [ -n "$(child "$1")" ]; }
restores_at_least() {
	[ "$(grep -c 'restored on /dev/null' "$T/sv.log")" -ge "$1" ]
}
check "supervisor writes its pidfile" wait_for test -s "$T/svpid"
check "supervisor bound the cache once" \
	wait_for grep -q "supervisor: bound $T/cache" "$T/sv.log"
check "supervisor started a daemon" wait_for has_child 1
C1=$(child 1)
check "the daemon took over the device with restore" \
	wait_for grep -q 'restored on /dev/null' "$T/sv.log"
check "the daemon did not bind again" \
	[ "$(grep -c 'in on-demand mode' "$T/sv.log")" -eq 0 ]
[ -n "$C1" ] && kill -9 "$C1"
check "killed daemon is restarted" wait_for has_child 2
C2=$(child 2)
check "restart logged with restore" grep -q 'restart 1 with restore' "$T/sv.log"
check "new daemon is a new process and alive" \
	both [ -n "$C2" -a "$C2" != "$C1" ] -- wait_for alive "$C2"
check "restarted daemon sent restore" \
	wait_for restores_at_least 2
kill -TERM "$S"
wait "$S"
rc=$?
check "SIGTERM to the supervisor stops both (status $rc)" \
	both [ $rc -eq 0 ] -- wait_for dead "$C2"
check "supervisor pidfile removed" [ ! -e "$T/svpid" ]

"$FD" $CF --supervise --max-restarts 0 --cache-dir "$T/cache" \
	--source "$T/blobs" --device /dev/null >"$T/sv2.log" 2>&1 &
S2=$!
PIDS+=("$S2")
wait_for grep -q 'started daemon pid' "$T/sv2.log"
C=$(sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' "$T/sv2.log" | head -1)
[ -n "$C" ] && wait_for grep -q 'restored on' "$T/sv2.log" && kill -9 "$C"
wait "$S2"
rc=$?
check "supervisor gives up after --max-restarts (status $rc)" \
	both [ $rc -eq 1 ] -- grep -q 'giving up' "$T/sv2.log"

# abbreviated supervisor options are not passed on to the daemon
"$FD" $CF --super --max-r=1 --pidf="$T/svpid3" --cache-dir "$T/cache" \
	--source "$T/blobs" --device /dev/null >"$T/sv3.log" 2>&1 &
S3=$!
PIDS+=("$S3")
check "abbreviated --super: the daemon starts and restores" \
	wait_for grep -q 'restored on /dev/null' "$T/sv3.log"
check "abbreviated --pidf=: the supervisor wrote it" test -s "$T/svpid3"
check "the daemon was not told to supervise" \
	not_grep 'passes --devfd' "$T/sv3.log"
kill -TERM "$S3"
wait "$S3"
rc=$?
check "abbreviated options: clean stop (status $rc)" [ $rc -eq 0 ]

echo "fetchd-daemon: $fails failed"
[ "$fails" -eq 0 ]
