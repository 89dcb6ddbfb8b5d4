# SPDX-License-Identifier: GPL-2.0-or-later
#
# The on-demand path end to end with the minimal daemon (ondemand-mini):
# an erofs-utils chunked image (bootstrap "od-boot" + blob device "od-blob",
# empty tag, so the blob's cookie key comes from device=) mounted in fscache
# mode, content checked, READ accounting, cache reuse on re-mount, EIO on a
# failing source, shared domains, and the mount conflicts of docs/kernel-facts.md §16.

DATA=/data/blobs
t_cache_setup || return 1
if ! err=$(t_daemon_start /bin/ondemand-mini /cache/fscache $DATA); then
	t_fail daemon-bound "$err"
	return 1
fi
t_ok daemon-bound

# Wait until the daemon has seen the CLOSE of every cookie of a mount, so
# the cache files are committed before the next mount.

t_mark
if ! err=$(t_od_mount /mnt/od od-boot device=od-blob); then
	t_fail mount "$err"
	return 1
fi
t_ok mount
t_eq first-read-is-superblock-page \
	"key=od-boot off=0 len=4096" \
	"$(grep -m1 '^READ ' "$T_DAEMON_LOG" | grep -o 'key=.*')"
t_sha256 content /mnt/od /data/od.sha256
n=$(t_reads_since od-blob)
if [ "$n" -gt 0 ]; then t_ok blob-read-on-demand; else
	t_fail blob-read-on-demand "no READ for od-blob after reading every file"; fi
# READ offsets and lengths are whole pages (fields: off=N len=N)
t_check reads-page-aligned awk '/^READ / {
	split($5, o, "="); split($6, l, "=")
	if (o[2] % 4096 || l[2] % 4096 || l[2] == 0) bad = 1
} END { exit bad }' "$T_DAEMON_LOG"
t_check umount t_umount /mnt/od
if t_wait_closes od-blob 1 && t_wait_closes od-boot 1; then
	t_ok close-on-umount
else
	t_fail close-on-umount "no CLOSE for od-boot/od-blob after umount"
fi

# Same fsid again: everything read before is in the cache files now.
t_mark
if err=$(t_od_mount /mnt/od od-boot device=od-blob); then
	t_sha256 remount-content /mnt/od /data/od.sha256
	t_eq remount-zero-reads 0 "$(t_reads_since)"
	# no domain: the same fsid twice is EBUSY (docs/kernel-facts.md §16)
	t_check_fails same-fsid-twice-busy mount -t erofs \
		-o fsid=od-boot,device=od-blob none /mnt/od2
	t_umount /mnt/od
	t_wait_closes od-blob 2
else
	t_fail remount "$err"
fi

# A failing source: READs completed without data give EIO to the reader,
# and the data is not cached, so it reads fine once the source recovers.
# eio-boot/eio-blob are copies of od-boot/od-blob: a new volume, no cache.
t_mark
if err=$(t_od_mount /mnt/eio eio-boot device=eio-blob); then
	touch $DATA/eio-blob.fail
	big=$(awk '{ print $2 }' /data/od.sha256 | head -n 1)
	t_check_fails eio-on-failed-read cat "/mnt/eio/$big"
	t_check eio-logged sh -c "dmesg | grep -q -E 'erofs.*(failed|error)|prepare_ondemand_read'"
	rm -f $DATA/eio-blob.fail
	t_sha256 eio-recovers /mnt/eio /data/od.sha256
	t_umount /mnt/eio
else
	t_fail eio-mount "$err"
fi

# Shared domain: two bootstraps referencing the same blob tag share one
# blob cookie (one OPEN) and its page cache and cache file (no READ for the
# second).  Zero OPENs or READs alone would also pass for images that never
# reach the blob, so both checks are made after both mounts have read every
# file, and include that both contents were right, that the first mount did
# open the blob in the domain's volume and read it, and that no page of the
# blob was requested twice across the two mounts.
# dom_pages FROMLINE: "DISTINCT TWICE" pages of od-blob in READs after
# FROMLINE (a page requested by two READs counts once in TWICE)
dom_pages() {
	tail -n +$(($1 + 1)) "$T_DAEMON_LOG" | awk '
	/^READ / && / key=od-blob / {
		split($5, o, "="); split($6, l, "=")
		for (p = int(o[2] / 4096); p * 4096 < o[2] + l[2]; p++)
			if (seen[p]++ == 1) twice++
	}
	END { n = 0; for (p in seen) n++; print n + 0, twice + 0 }'
}
t_mark
mark_a=$(cat /run/t_mark)
if err=$(t_od_mount /mnt/da dom-a domain_id=dom,device=od-blob); then
	ca=bad
	t_sha256 domain-a-content /mnt/da /data/od.sha256 && ca=ok
	t_mark
	if err=$(t_od_mount /mnt/db dom-b domain_id=dom,device=od-blob); then
		cb=bad
		t_sha256 domain-b-content /mnt/db /data/od.sha256 && cb=ok
		n=$(tail -n +$((mark_a + 1)) "$T_DAEMON_LOG" |
			grep -c '^OPEN .* vol=erofs,dom key=od-blob size=')
		t_eq domain-blob-not-reopened \
			"content a=ok b=ok; od-blob OPENs in erofs,dom: 1, by b: 0; dom-b OPENs: 1" \
			"content a=$ca b=$cb; od-blob OPENs in erofs,dom: $n, by b: $(t_opens_since od-blob); dom-b OPENs: $(t_opens_since dom-b)"
		pages=$(dom_pages "$mark_a")
		read_a=no
		[ "${pages% *}" -gt 0 ] && read_a=yes
		t_eq domain-blob-shared-no-reads \
			"content a=ok b=ok; od-blob READ at all: yes; od-blob READs by b: 0; pages read twice: 0" \
			"content a=$ca b=$cb; od-blob READ at all: $read_a; od-blob READs by b: $(t_reads_since od-blob); pages read twice: ${pages#* }"
		# in a domain, an fsid that is already a cookie name is EEXIST
		t_check_fails domain-fsid-clash mount -t erofs \
			-o fsid=od-blob,domain_id=dom none /mnt/dc
		t_umount /mnt/db
	else
		t_fail domain-b-mount "$err"
	fi
	t_umount /mnt/da
else
	t_fail domain-a-mount "$err"
fi

t_daemon_stop
t_dmesg_clean kernel-log-clean
