# SPDX-License-Identifier: GPL-2.0-or-later
#
# erofs-fetchd against the real kernel: a blob directory source, HTTP from
# busybox httpd on the guest's loopback, EIO when the source fails (and
# recovery), and a supervised daemon killed mid-mount that comes back with
# "restore" (6.8+ failover).  Images: erofs-utils chunked images, copies of
# od-boot/od-blob under per-case names, so every case starts uncached.

FD=/bin/erofs-fetchd
if [ ! -x $FD ]; then
	t_skip all "erofs-fetchd not built"
	return 0
fi
# fetchd's log: "... info: OPEN msg_id M object O: NAME (VOLKEY), N bytes",
# "... debug: READ msg_id M object O (NAME): off X len Y" (needs -v)
T_READY='in on-demand mode|supervisor: started daemon'
T_READ_RE='READ msg_id'
T_OPEN_RE='OPEN msg_id'
T_KEY_PRE='[ (]'
T_KEY_POST='[) ]'
T_CLOSE_PRE='CLOSE msg_id .*: '
CD=/cache/fetchd
t_cache_setup || return 1
mkdir -p $CD


# --- 1. blob directory source -------------------------------------------
if err=$(t_daemon_start $FD --cache-dir $CD --source /data/blobs -v); then
	t_ok dir-daemon-bound
	t_mark
	if err=$(t_od_mount /mnt/fd fd-boot device=fd-blob); then
		t_sha256 dir-content /mnt/fd /data/od.sha256
		n=$(t_reads_since fd-blob)
		[ "$n" -gt 0 ] && t_ok dir-blob-reads ||
			t_fail dir-blob-reads "no READ for fd-blob"
		t_umount /mnt/fd
		t_wait_closes fd-blob 1 && t_ok dir-close-on-umount ||
			t_fail dir-close-on-umount "no CLOSE for fd-blob"
		t_mark
		if err=$(t_od_mount /mnt/fd fd-boot device=fd-blob); then
			t_sha256 dir-remount-content /mnt/fd /data/od.sha256
			t_eq dir-remount-zero-reads 0 "$(t_reads_since)"
			t_umount /mnt/fd
			t_wait_closes fd-blob 2
		else
			t_fail dir-remount "$err"
		fi
	else
		t_fail dir-mount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-dir.log
else
	t_fail dir-daemon-bound "$err"
fi

# --- 2. HTTP from busybox httpd on loopback, EIO when it goes away ------
httpd_start() {
	httpd -f -p 127.0.0.1:8080 -h /data/blobs &
	echo $! > /run/httpd.pid
	echo $! >> /run/t_pids
	sleep 0.3
}
httpd_stop() { kill "$(cat /run/httpd.pid)" 2>/dev/null; wait "$(cat /run/httpd.pid)" 2>/dev/null; }

httpd_start
if err=$(t_daemon_start $FD --cache-dir $CD --source http://127.0.0.1:8080 \
		--http-retries 1 --connect-timeout 2 -v); then
	t_ok http-daemon-bound
	if err=$(t_od_mount /mnt/http http-boot device=http-blob); then
		big=$(awk '{ print $2 }' /data/od.sha256 | head -n 1)
		# everything but the big file now, the big file after the failure
		grep -v " $big\$" /data/od.sha256 > /run/rest.sha256
		grep " $big\$" /data/od.sha256 > /run/big.sha256
		t_sha256 http-content /mnt/http /run/rest.sha256
		httpd_stop
		t_check_fails http-source-down-eio cat "/mnt/http/$big"
		httpd_start
		t_sha256 http-recovers /mnt/http /run/big.sha256
		t_umount /mnt/http
		t_wait_closes http-blob 1
	else
		t_fail http-mount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-http.log
else
	t_fail http-daemon-bound "$err"
fi
httpd_stop

# --- 3. supervised daemon killed mid-mount: restart with restore --------
# 6.8 feature; Debian's 6.1.192 has it backported (docs/kernel-facts.md §29)
why=$(t_restore_missing)
if [ -n "$why" ]; then
	t_skip supervise "$why"
elif err=$(t_daemon_start $FD --supervise --cache-dir $CD --source /data/blobs -v); then
	t_ok supervise-started
	if err=$(t_od_mount /mnt/sv sv-boot device=sv-blob); then
		big=$(awk '{ print $2 }' /data/od.sha256 | head -n 1)
		grep -v " $big\$" /data/od.sha256 > /run/rest.sha256
		grep " $big\$" /data/od.sha256 > /run/big.sha256
		t_sha256 supervise-before-kill /mnt/sv /run/rest.sha256
		child=$(grep -o 'started daemon pid [0-9]*' "$T_DAEMON_LOG" |
			tail -n 1 | awk '{ print $4 }')
		if [ -n "$child" ] && kill -KILL "$child"; then
			t_ok supervise-child-killed
			# the big file was never read: its READs go to the
			# restarted daemon (fresh OPEN on the closed object)
			t_sha256 supervise-after-restore /mnt/sv /run/big.sha256
			t_check supervise-restarted grep -q 'restart 1 with restore' "$T_DAEMON_LOG"
		else
			t_fail supervise-child-killed "no daemon pid in the log"
		fi
		t_umount /mnt/sv
	else
		t_fail supervise-mount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-supervise.log
else
	t_fail supervise-started "$err"
fi
t_dmesg_clean kernel-log-clean
