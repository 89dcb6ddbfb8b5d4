# SPDX-License-Identifier: GPL-2.0-or-later
#
# One of our mkfs.erofs images over HTTP: busybox httpd on the guest's
# loopback serves /data/blobs, so the bootstrap is at /FSID and the blob at
# /TAG (the tag in the device table, no device= option).  The image is the
# metadata-rich tree at 64 KiB chunks, its bootstrap copied under its own
# fsid so that it starts uncached; erofs-fetchd has the HTTP source only,
# in its own cache directory, and the mount gives fsid= only.
#   1. --manifest (sizes from the manifest, blob path = tag): a metadata
#      walk reads the bootstrap and not the blob; metadata (metalist) and
#      every file's bytes equal the host's; the requests httpd saw are
#      Range GETs of /FSID and /TAG and nothing answered 200 (no HEAD);
#      erofs-cookies check complete; a remount sends no READ and no request.
#   2. no manifest (sizes by HEAD): a remount on the same cache sends no
#      READ, so the HEAD sizes equal the manifest's (a different size would
#      make the kernel drop the cache file), and httpd saw the HEADs.
# The host side (tests/kernel/run.sh) checks the cache files the kernel
# wrote under /cache/ourhttp against erofs-cookies' predictions.
#
# /data/ourhttp.images: "FSID TAG"; /data/ourhttp.json: the manifest.

if [ ! -x /bin/erofs-fetchd ] || [ ! -x /bin/metalist ] ||
   [ ! -r /data/ourhttp.images ] || [ ! -r /data/ourhttp.json ]; then
	t_skip all "erofs-fetchd, metalist or the HTTP image not built"
	return 0
fi
t_use_fetchd
CD=/cache/ourhttp
PORT=8081
URL=http://127.0.0.1:$PORT/
HLOG=/run/httpd-ourhttp.log
t_cache_setup || return 1
mkdir -p $CD
read -r fsid tag < /data/ourhttp.images



# httpd -vv logs "IP:PORT: url:/PATH" and "IP:PORT: response:CODE" per
# connection (one request each): print "PATH CODE" per request after the
# line remembered by http_mark
http_mark() { wc -l < $HLOG > /run/httpd-ourhttp.mark; }
http_reqs() {
	tail -n +$(($(cat /run/httpd-ourhttp.mark) + 1)) $HLOG | awk '
	$2 ~ /^url:/ { url[$1] = substr($2, 5) }
	$2 ~ /^response:/ { print url[$1], substr($2, 10) }'
}
# http_count PATH CODE: requests for PATH answered CODE since http_mark
http_count() { http_reqs | grep -c -x -F "$1 $2"; }

: > $HLOG
httpd -f -vv -p 127.0.0.1:$PORT -h /data/blobs 2>> $HLOG &
hpid=$!
echo $hpid >> /run/t_pids
i=0
while ! wget -q -O /dev/null "$URL$fsid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

# --- 1. with the manifest ------------------------------------------------
if err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD --source $URL \
		--manifest /data/ourhttp.json --fsid "$fsid" \
		--fetch-unit 65536 --http-retries 1 --connect-timeout 2 -v); then
	t_ok manifest-daemon-bound
	t_mark
	http_mark
	if err=$(t_od_mount /mnt/h "$fsid"); then
		t_ok manifest-mount
		ls -lRa /mnt/h > /dev/null 2>&1
		/bin/metalist /mnt/h > /run/ourhttp.list 2> /run/ourhttp.err ||
			t_fail metalist "$(tail -n 1 /run/ourhttp.err)"
		t_eq metadata-walk-no-blob-reads 0 "$(t_reads_since "$tag")"
		n=$(t_reads_since "$fsid")
		[ "$n" -gt 0 ] && t_ok metadata-walk-reads-bootstrap ||
			t_fail metadata-walk-reads-bootstrap "no READ for $fsid"
		t_same_list metadata-equal /data/meta.list /run/ourhttp.list
		t_sha256 content /mnt/h /data/meta.sha256
		n=$(t_reads_since "$tag")
		[ "$n" -gt 0 ] && t_ok content-reads-blob ||
			t_fail content-reads-blob "no READ for the blob $tag"
		t_eq http-range-gets-bootstrap-blob-no-head \
			"bootstrap 206: yes, blob 206: yes, answered 200: 0, other: 0" \
			"bootstrap 206: $([ "$(http_count "/$fsid" 206)" -gt 0 ] && echo yes || echo no), blob 206: $([ "$(http_count "/$tag" 206)" -gt 0 ] && echo yes || echo no), answered 200: $(http_reqs | grep -c ' 200$'), other: $(http_reqs | grep -v -c -x -E "/($fsid|$tag) 20[06]")"
		t_umount /mnt/h
		t_wait_closes "$fsid"
		t_check cookies-check-complete /bin/erofs-cookies check \
			--cache-dir $CD --blob-dir /data/blobs --fsid "$fsid" \
			"/data/blobs/$fsid"
		t_mark
		http_mark
		if err=$(t_od_mount /mnt/h "$fsid"); then
			t_sha256 remount-content /mnt/h /data/meta.sha256
			t_eq remount-zero-reads-zero-requests "0 0" \
				"$(t_reads_since) $(http_reqs | grep -c '')"
			t_umount /mnt/h
			t_wait_closes "$fsid"
		else
			t_fail remount "$err"
		fi
	else
		t_fail manifest-mount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-ourhttp-manifest.log
else
	t_fail manifest-daemon-bound "$err"
fi

# --- 2. without it: sizes by HEAD, same cache ------------------------------
if err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD --source $URL \
		--http-retries 1 --connect-timeout 2 -v); then
	t_mark
	http_mark
	if err=$(t_od_mount /mnt/h "$fsid"); then
		t_sha256 head-remount-content /mnt/h /data/meta.sha256
		t_eq head-remount-zero-reads 0 "$(t_reads_since)"
		t_eq head-requests-made "bootstrap: yes, blob: yes" \
			"bootstrap: $([ "$(http_count "/$fsid" 200)" -gt 0 ] && echo yes || echo no), blob: $([ "$(http_count "/$tag" 200)" -gt 0 ] && echo yes || echo no)"
		t_umount /mnt/h
		t_wait_closes "$fsid"
	else
		t_fail head-remount "$err"
	fi
	t_daemon_stop
	cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-ourhttp-head.log
else
	t_fail head-daemon-bound "$err"
fi
kill $hpid 2>/dev/null
wait $hpid 2>/dev/null
cp $HLOG /cache/artifacts/
t_dmesg_clean kernel-log-clean
