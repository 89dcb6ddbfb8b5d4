# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest-side helpers for kernel test scenarios (busybox sh).  /init loads this
# file before /test/main.sh.  Everything prints the result protocol that
# kernel/run-qemu.sh reads back:  "ok - NAME" / "not ok - NAME: REASON".
#
# Results        t_ok NAME | t_fail NAME REASON | t_skip NAME REASON
# Kernel         t_kernel_has FUNCTION      feature test via /proc/kallsyms
#                t_restore_missing          why failover is untestable, or ""
#                t_check NAME CMD...        ok when CMD succeeds
#                t_check_fails NAME CMD...  ok when CMD fails
#                t_eq NAME WANT GOT         ok when the strings are equal
#                t_sha256 NAME DIR MANIFEST sha256sum -c of MANIFEST in DIR
# Cache disk     t_cache_setup [DEV]        ext4 cache disk on /cache,
#                                            cachefiles root /cache/fscache
# Daemon         t_daemon_start CMD...      background, log in $T_DAEMON_LOG,
#                                            waits for $T_READY in the log
#                t_daemon_stop [SIG]        stop it and wait
#                t_reads [KEY]              READ lines so far (for KEY)
#                t_opens [KEY]              OPEN lines so far (for KEY)
#                t_mark                     remember the log position
#                t_reads_since [KEY]        READs since the last t_mark
#                t_opens_since [KEY]        OPENs since the last t_mark
#                t_wait_log RE [TENTHS]     wait for a log line matching RE
# Mounts         t_od_mount MNT FSID [OPTS] erofs fscache-mode mount
#                t_umount MNT
# Artifacts      t_artifact FILE [NAME]     copy to /cache/artifacts/
# Kernel log     t_dmesg_clean NAME         not ok if dmesg has BUG/WARNING
#
# A test name is prefixed with $T_PREFIX (the scenario name) when set.

T_DAEMON_LOG=${T_DAEMON_LOG:-/run/daemon.log}
T_READY=${T_READY:-^bound}
T_READ_RE=${T_READ_RE:-^READ }
T_OPEN_RE=${T_OPEN_RE:-^OPEN }
# how a log line names the cookie key: ${T_KEY_PRE}KEY${T_KEY_POST} (ERE)
T_KEY_PRE=${T_KEY_PRE:-key=}
T_KEY_POST=${T_KEY_POST:-( |\$)}
# what precedes the key in a CLOSE line (ERE; the key ends the line)
T_CLOSE_PRE=${T_CLOSE_PRE:-^CLOSE .*key=}
T_CACHE=/cache
T_FSCACHE=/cache/fscache

# t_use_fetchd: read the log of erofs-fetchd (-v) rather than of the
# minimal test daemon: its "bound" line and how it names requests and keys
t_use_fetchd() {
	T_READY='in on-demand mode'
	T_READ_RE='READ msg_id'
	T_OPEN_RE='OPEN msg_id'
	T_KEY_PRE='[ (]'
	T_KEY_POST='[) ]'
	T_CLOSE_PRE='CLOSE msg_id .*: '
}

# t_closes KEY: CLOSE lines for KEY so far
t_closes() { grep -c -E -- "$T_CLOSE_PRE$1\$" "$T_DAEMON_LOG"; }

# t_wait_closes KEY [N]: wait up to 5 s for N (default 1) CLOSEs of KEY, so
# the kernel has committed its cache files; true when they came
t_wait_closes() {
	local i=0
	while [ "$(t_closes "$1")" -lt "${2:-1}" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(t_closes "$1")" -ge "${2:-1}" ]
}

# t_same_list NAME A B: ok when two listings are equal, else the first
# differing lines as the reason
t_same_list() {
	if cmp -s "$2" "$3"; then
		t_ok "$1"
	else
		t_fail "$1" "$(diff "$2" "$3" | grep '^[-+][^-+]' | head -n 4 |
			cut -c1-160 | tr '\n' ';')"
	fi
}

_t_name() { echo "${T_PREFIX:+$T_PREFIX/}$1"; }

t_ok() { echo "ok - $(_t_name "$1")"; }

t_fail() {
	echo "not ok - $(_t_name "$1"): $2"
	echo $(( $(cat /run/t_failures) + 1 )) > /run/t_failures
}

t_skip() { echo "ok - $(_t_name "$1") # SKIP $2"; }
# t_kernel_has FUNCTION: the running kernel has that function (a feature
# test through /proc/kallsyms, CONFIG_KALLSYMS; stable kernels carry
# backports, so a version number says less than the code does)
t_kernel_has() { grep -q " $1\$" /proc/kallsyms; }
# t_restore_missing: print why the cachefiles failover ("restore" command,
# object reopening; Linux 6.8) cannot be tested, or nothing when it can
t_restore_missing() {
	t_kernel_has cachefiles_ondemand_restore ||
		echo "needs 6.8 (restore): no cachefiles_ondemand_restore in $(uname -r)"
}
# t_kernel_at_least MAJOR MINOR: the running kernel is that or newer
t_kernel_at_least() {
	local r
	r=$(uname -r)
	local maj=${r%%.*} rest=${r#*.}
	local min=${rest%%[!0-9]*}
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# t_check NAME CMD...: run CMD, ok on status 0, else the last output line.
t_check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		t_ok "$name"
	else
		t_fail "$name" "'$*' failed ($rc): $(echo "$out" | tail -n 1)"
	fi
	return $rc
}

t_check_fails() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_fail "$name" "'$*' succeeded but should have failed"
		return 1
	fi
	t_ok "$name"
}

t_eq() {
	if [ "$2" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1" "expected '$2', got '$3'"
		return 1
	fi
}

# t_sha256 NAME DIR MANIFEST: MANIFEST lines are "HASH  ./relative/path".
t_sha256() {
	local out
	if out=$(cd "$2" && sha256sum -c "$3" 2>&1); then
		t_ok "$1"
	else
		t_fail "$1" "$(echo "$out" | grep -v ': OK$' | head -n 3 | tr '\n' ';')"
		return 1
	fi
}

t_cache_setup() {
	local dev=${1:-/dev/vda}
	grep -q " $T_CACHE " /proc/mounts && return 0
	mkdir -p $T_CACHE
	if ! mount -t ext4 "$dev" $T_CACHE 2>/run/mount.err; then
		t_fail cache-disk "cannot mount $dev: $(cat /run/mount.err)"
		return 1
	fi
	mkdir -p $T_FSCACHE /cache/artifacts
	return 0
}

# t_daemon_start CMD...: start a daemon with output in $T_DAEMON_LOG and wait
# (up to ~10 s) for a line matching $T_READY.
t_daemon_start() {
	local i=0
	: > "$T_DAEMON_LOG"
	"$@" >> "$T_DAEMON_LOG" 2>&1 &
	echo $! > /run/t_daemon.pid
	echo $! >> /run/t_pids
	while [ $i -lt 100 ]; do
		grep -q -E -- "$T_READY" "$T_DAEMON_LOG" && return 0
		if ! kill -0 "$(cat /run/t_daemon.pid)" 2>/dev/null; then
			echo "daemon '$*' exited: $(tail -n 3 "$T_DAEMON_LOG")"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "daemon '$*' not ready: $(tail -n 3 "$T_DAEMON_LOG")"
	return 1
}

t_daemon_stop() {
	local pid i=0
	[ -f /run/t_daemon.pid ] || return 0
	pid=$(cat /run/t_daemon.pid)
	kill -"${1:-TERM}" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f /run/t_daemon.pid
	# the cache unbinds once every anon fd is gone; until then a new
	# open of /dev/cachefiles gets EBUSY
	i=0
	while ! (exec 4<>/dev/cachefiles) 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

t_daemon_alive() {
	[ -f /run/t_daemon.pid ] && kill -0 "$(cat /run/t_daemon.pid)" 2>/dev/null
}

# _t_count RE KEY FROMLINE: count log lines matching RE (and "key=KEY")
# after line FROMLINE.
_t_count() {
	tail -n +$(( ${3:-0} + 1 )) "$T_DAEMON_LOG" | grep -E -- "$1" |
		if [ -n "$2" ]; then
			grep -c -E -- "$T_KEY_PRE$2$T_KEY_POST"
		else
			grep -c ''
		fi
}
t_reads() { _t_count "$T_READ_RE" "$1"; }
t_opens() { _t_count "$T_OPEN_RE" "$1"; }
t_mark() { wc -l < "$T_DAEMON_LOG" > /run/t_mark; }
t_reads_since() { _t_count "$T_READ_RE" "$1" "$(cat /run/t_mark)"; }
t_opens_since() { _t_count "$T_OPEN_RE" "$1" "$(cat /run/t_mark)"; }
# t_wait_open KEY [TENTHS]: wait for an OPEN of KEY since the last t_mark
# (a mount does not wait for its blob OPENs: the kernel sends them later)
t_wait_open() {
	local i=0
	while [ "$(t_opens_since "$1")" -lt 1 ] && [ $i -lt "${2:-100}" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(t_opens_since "$1")" -ge 1 ]
}

t_wait_log() {
	local i=0
	while [ $i -lt "${2:-50}" ]; do
		grep -q -E -- "$1" "$T_DAEMON_LOG" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# t_od_mount MNT FSID [EXTRA,OPTS]: fscache-mode mount (the source is
# ignored by the kernel when fsid= is given).  Prints the error on failure.
t_od_mount() {
	mkdir -p "$1"
	if mount -t erofs -o "fsid=$2${3:+,$3}" none "$1" 2>/run/mount.err; then
		echo "$1" >> /run/t_mounts
		return 0
	fi
	echo "mount fsid=$2${3:+,$3}: $(cat /run/mount.err);" \
		"$(dmesg | grep -i -E 'erofs|cachefiles|fscache' | tail -n 2 | tr '\n' ' ')"
	return 1
}

t_umount() {
	umount "$1" && sed -i "\\|^$1\$|d" /run/t_mounts 2>/dev/null
}

t_artifact() {
	mkdir -p /cache/artifacts
	cp "$1" "/cache/artifacts/${2:-$(basename "$1")}"
}

t_dmesg_clean() {
	local bad
	bad=$(dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|hung_task|blocked for more' | head -n 2 | tr '\n' ' ')
	if [ -n "$bad" ]; then
		t_fail "$1" "kernel log: $bad"
		return 1
	fi
	t_ok "$1"
}

# Called by /init after the script: unmount, stop daemons, flush the disk.
t_cleanup() {
	local m pid
	if [ -f /run/t_mounts ]; then
		for m in $(sed '1!G;h;$!d' /run/t_mounts); do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	fi
	# give the daemon a moment to read the CLOSE messages of the unmounts
	sleep 0.2
	if [ -f /run/t_pids ]; then
		for pid in $(cat /run/t_pids); do
			kill -TERM "$pid" 2>/dev/null
		done
		sleep 0.2
		for pid in $(cat /run/t_pids); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	if [ -f "$T_DAEMON_LOG" ] && grep -q /cache /proc/mounts; then
		cp "$T_DAEMON_LOG" /cache/artifacts/ 2>/dev/null
		dmesg > /cache/artifacts/dmesg.txt 2>/dev/null
	fi
	sync
	# the cache stays busy until cachefiles has unbound; retry a little
	for m in 1 2 3 4 5 6 7 8 9 10; do
		grep -q " $T_CACHE " /proc/mounts || break
		umount $T_CACHE 2>/dev/null && break
		sleep 0.2
	done
	grep -q " $T_CACHE " /proc/mounts && mount -o remount,ro $T_CACHE 2>/dev/null
	sync
}
