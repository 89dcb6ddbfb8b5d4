# SPDX-License-Identifier: GPL-2.0-or-later
#
# erofs-fetchd failure paths with images from our mkfs.erofs:
#   * a bootstrap the source does not have: the mount fails; a blob it does
#     not have: the mount works, reads fail at once with ENOBUFS (the
#     cookie is in the failed state); the daemon log names the missing
#     object;
#   * the source loses the blob after the mount: reads fail with EIO (no
#     hang), the log names object, range and error; reads work again once the
#     blob is back;
#   * a supervised daemon killed while a READ is pending (the source is
#     stalled: an HTTP source whose server, busybox httpd, is replaced after
#     the mount by a listener that accepts and never answers, so the fetch
#     blocks; directory sources refuse FIFOs): after the restart with
#     "restore" the kernel delivers the same READ again, httpd is back, and
#     the blocked reader gets right data.
# /data/meta.fail: "MISSING_FSID FAIL_FSID STALL_FSID TAG FILE"; the
# bootstraps are in /data/blobs, the blob TAG is copied to per-case source
# directories under /run, MISSING_FSID's blob is nowhere.

if [ ! -x /bin/erofs-fetchd ] || [ ! -r /data/meta.fail ]; then
	t_skip all "erofs-fetchd or the meta images not built"
	return 0
fi
T_READ_RE='READ msg_id'
T_OPEN_RE='OPEN msg_id'
T_KEY_PRE='[ (]'
T_KEY_POST='[) ]'
CD=/cache/failures
t_cache_setup || return 1
mkdir -p $CD
read -r miss fail stall tag file < /data/meta.fail
grep "  ./$file\$" /data/meta.sha256 > /run/one.sha256

# --- 1. missing blob, 2. source loses the blob ------------------------------
src=/run/failsrc
mkdir -p $src
cp "/data/blobs/$miss" "/data/blobs/$fail" "/data/blobs/$tag" $src/
T_READY='in on-demand mode'
if err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD --source $src -v); then
	t_ok daemon-bound
	# a missing bootstrap fails the mount
	if t_od_mount /mnt/nb no-such-fsid > /run/nb.err; then
		t_fail missing-bootstrap-mount-fails "mount succeeded"
		t_umount /mnt/nb
	else
		t_ok missing-bootstrap-mount-fails
	fi
	t_check missing-bootstrap-logged grep -q \
		"OPEN msg_id .*cookie \"no-such-fsid\": unknown object" "$T_DAEMON_LOG"
	# a missing blob does not fail the mount (6.12 looks blob cookies up
	# asynchronously, measured): metadata works, data reads fail
	mtag=$(cat /data/meta.misstag)
	if err=$(t_od_mount /mnt/miss "$miss"); then
		t_check missing-blob-metadata-readable ls -l /mnt/miss/data
		# measured on 6.12: the blob cookie whose OPEN was refused is
		# in the failed state, so fscache refuses the read with ENOBUFS
		# (a READ that fails later, below, gives EIO).  Before 6.2
		# (no prepare_ondemand_read, docs/kernel-facts.md §30) EROFS
		# drops that error and the reader gets EIO (measured on 6.1).
		want='No buffer space available' werr=ENOBUFS
		if ! t_kernel_has cachefiles_prepare_ondemand_read; then
			want='Input/output error' werr=EIO
		fi
		if cat /mnt/miss/data > /dev/null 2> /run/miss.err; then
			t_fail missing-blob-read-fails "read succeeded"
		elif grep -q "$want" /run/miss.err; then
			t_ok "missing-blob-read-fails-$(echo $werr | tr A-Z a-z)"
		else
			t_fail "missing-blob-read-fails-$(echo $werr | tr A-Z a-z)" "not $werr: $(cat /run/miss.err)"
		fi
		t_umount /mnt/miss
	else
		t_ok missing-blob-mount-refused
	fi
	t_check missing-blob-logged grep -q \
		"OPEN msg_id .*cookie \"$mtag\": unknown object" "$T_DAEMON_LOG"

	t_mark
	if err=$(t_od_mount /mnt/f "$fail"); then
		# lose the blob only once its (asynchronous) OPEN was answered
		t_wait_open "$tag" ||
			t_fail source-lost-blob-opened "no OPEN of $tag"
		mv "$src/$tag" "$src/$tag.away"
		t_mark
		if cat "/mnt/f/$file" > /dev/null 2> /run/lost.err; then
			t_fail source-lost-eio "read succeeded"
		elif grep -q 'Input/output error' /run/lost.err; then
			t_ok source-lost-eio
		else
			t_fail source-lost-eio "not EIO: $(cat /run/lost.err)"
		fi
		t_check source-lost-logged-source grep -q "source $src: $tag \[.*No such file" "$T_DAEMON_LOG"
		t_check source-lost-logged-read grep -q "READ msg_id .*($tag): completing without data" "$T_DAEMON_LOG"
		mv "$src/$tag.away" "$src/$tag"
		t_sha256 source-back-recovers /mnt/f /run/one.sha256
		t_umount /mnt/f
	else
		t_fail fail-mount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-failures.log
else
	t_fail daemon-bound "$err"
fi

# --- 3. daemon killed while a READ is pending --------------------------------
# 6.8 feature; Debian's 6.1.192 has it backported (docs/kernel-facts.md §29)
why=$(t_restore_missing)
if [ -n "$why" ]; then
	t_skip stall "$why"
	t_dmesg_clean kernel-log-clean
	return 0
fi
src=/run/stallsrc
mkdir -p $src
cp "/data/blobs/$stall" "/data/blobs/$tag" $src/
SPORT=8093
SURL=http://127.0.0.1:$SPORT/
# serve_src: busybox httpd for the source directory (the stall below
# swaps it for a listener that takes each connection and never answers)
serve_src() {
	httpd -f -p 127.0.0.1:$SPORT -h $src &
	spid=$!
	echo $spid >> /run/t_pids
	i=0
	while ! wget -q -O /dev/null "$SURL$stall" 2>/dev/null &&
		[ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
serve_src
T_READY='supervisor: started daemon'
if ! err=$(t_daemon_start /bin/erofs-fetchd --supervise --cache-dir $CD \
		--source $SURL --http-retries 1 --connect-timeout 2 -v); then
	t_fail supervise-started "$err"
	return 1
fi
t_mark
if ! err=$(t_od_mount /mnt/st "$stall"); then
	t_fail stall-mount "$err"
	t_daemon_stop
	return 1
fi
# 6.12 opens blob objects asynchronously after the mount: stall the source
# only once the blob's OPEN was answered, or the daemon would refuse the OPEN
if ! t_wait_open "$tag" 150; then
	t_fail stall-blob-opened "no OPEN of $tag after the mount"
fi
# the metadata is cached first: only the blob's fetch is to stall
ls -laR /mnt/st > /dev/null 2>&1
# from now on a fetch from the blob waits for an answer that never comes
kill $spid 2>/dev/null
wait $spid 2>/dev/null
printf '#!/bin/sh\necho $$ >> /run/hang.pids\nexec sleep 600\n' > /run/hang.sh
chmod +x /run/hang.sh
: > /run/hang.pids
nc -ll -p $SPORT -e /run/hang.sh &
npid=$!
echo $npid >> /run/t_pids
sleep 0.3
t_mark
cat "/mnt/st/$file" > /run/stalled.out 2> /run/stalled.err &
reader=$!
if t_wait_log "READ msg_id [0-9]* object [0-9]* \($tag\)" 100; then
	t_ok stall-read-pending
else
	t_fail stall-read-pending "no READ for $tag reached the daemon"
fi
sleep 0.5
id=$(tail -n +$(( $(cat /run/t_mark) + 1 )) "$T_DAEMON_LOG" |
	grep -o "READ msg_id [0-9]* object [0-9]* ($tag)" | head -n 1 |
	awk '{ print $3 }')
if kill -0 $reader 2>/dev/null && [ -n "$id" ]; then
	t_ok stall-reader-blocked
else
	t_fail stall-reader-blocked "the reader finished before the kill"
fi
child=$(grep -o 'started daemon pid [0-9]*' "$T_DAEMON_LOG" | tail -n 1 |
	awk '{ print $4 }')
if [ -n "$child" ] && kill -KILL "$child"; then
	t_ok stall-child-killed
else
	t_fail stall-child-killed "no daemon pid in the log"
fi
# the source comes back before the new daemon starts (one second later)
kill $npid 2>/dev/null
wait $npid 2>/dev/null
kill $(cat /run/hang.pids) 2>/dev/null
serve_src
i=0
while kill -0 $reader 2>/dev/null && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 $reader 2>/dev/null; then
	t_fail stall-reader-completes "reader still blocked 15 s after the kill"
	kill $reader 2>/dev/null
else
	wait $reader
	t_eq stall-reader-status 0 "$?"
	sum=$(sha256sum < /run/stalled.out | awk '{ print $1 }')
	t_eq stall-reader-data "$(awk '{ print $1 }' /run/one.sha256)" "$sum"
fi
t_check stall-restarted-with-restore grep -q 'restart 1 with restore' "$T_DAEMON_LOG"
# restore re-delivered the pending request: its msg_id is READ again
n=$(grep -c "READ msg_id $id object [0-9]* ($tag)" "$T_DAEMON_LOG")
[ -n "$id" ] && [ "$n" -ge 2 ] && t_ok stall-same-read-redelivered ||
	t_fail stall-same-read-redelivered "READ msg_id '$id' seen $n times"
t_umount /mnt/st
t_daemon_stop
kill $spid 2>/dev/null
cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-stall.log
t_dmesg_clean kernel-log-clean
