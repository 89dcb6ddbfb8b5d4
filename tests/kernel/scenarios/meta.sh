# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our toolchain against the real kernel, on a metadata-rich tree
# (tests/kernel/mktree.sh) built by our mkfs.erofs with 4 KiB, 64 KiB and
# 1 MiB chunks.  Served by erofs-fetchd from the blob directory and mounted
# with fsid= only (the device table's tags name the blobs):
#   * a metadata-only walk (ls -lR, metalist: lstat, readlink, xattrs of
#     everything) sends no READ for the blob, only for the bootstrap;
#   * every metadata field equals the source (metalist listing made on the
#     host) and every file's bytes (sha256 manifest);
#   * erofs-cookies check: complete after a full read; after reading exactly
#     one file (fetch unit 4 KiB, no read-ahead), the blob's present bytes equal the pages of
#     that file's chunk extents, computed on the host by finding its chunks
#     in the blob;
#   * a domain: two bootstraps sharing one blob, one OPEN for it.
# The host side (tests/kernel/run.sh) then checks that every file the kernel
# wrote under /cache/meta/cache is where erofs-cookies predicts, with the
# predicted xattr, and nothing else.
#
# /data/meta.images: lines "FSID TAG" (bootstrap /data/blobs/FSID, blob
# /data/blobs/TAG); /data/meta.part: "FSID TAG FILE BYTES" for the partial
# check; /data/meta.domain: "DOMAIN FSID_A FSID_B TAG".

if [ ! -x /bin/erofs-fetchd ] || [ ! -x /bin/metalist ] ||
   [ ! -r /data/meta.images ]; then
	t_skip all "erofs-fetchd, metalist or the meta images not built"
	return 0
fi
t_use_fetchd
CD=/cache/meta
t_cache_setup || return 1
mkdir -p $CD



# --readahead 0: the partial check below needs exactly what the kernel
# asks for, not the adaptive read-ahead a sequential reader gets
if ! err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD \
		--source /data/blobs --fetch-unit 4096 --readahead 0 -v); then
	t_fail daemon-bound "$err"
	return 1
fi
t_ok daemon-bound

while read -r fsid tag; do
	t_mark
	if ! err=$(t_od_mount /mnt/m "$fsid"); then
		t_fail "$fsid/mount" "$err"
		continue
	fi
	t_ok "$fsid/mount"
	# metadata only: no byte of file data may be fetched
	ls -lRa /mnt/m > /dev/null 2>&1
	/bin/metalist /mnt/m > /run/meta.list 2> /run/metalist.err ||
		t_fail "$fsid/metalist" "$(tail -n 1 /run/metalist.err)"
	t_eq "$fsid/metadata-walk-no-blob-reads" 0 "$(t_reads_since "$tag")"
	n=$(t_reads_since "$fsid")
	[ "$n" -gt 0 ] && t_ok "$fsid/metadata-walk-reads-bootstrap" ||
		t_fail "$fsid/metadata-walk-reads-bootstrap" "no READ for $fsid"
	t_same_list "$fsid/metadata-equal" /data/meta.list /run/meta.list
	t_sha256 "$fsid/content" /mnt/m /data/meta.sha256
	n=$(t_reads_since "$tag")
	[ "$n" -gt 0 ] && t_ok "$fsid/content-reads-blob" ||
		t_fail "$fsid/content-reads-blob" "no READ for the blob $tag"
	# the page cache was dropped by umount: the cache file serves a remount
	t_umount /mnt/m
	t_wait_closes "$fsid"
	t_check "$fsid/cookies-check-complete" /bin/erofs-cookies check \
		--cache-dir $CD --blob-dir /data/blobs --fsid "$fsid" \
		"/data/blobs/$fsid"
	t_mark
	if err=$(t_od_mount /mnt/m "$fsid"); then
		t_sha256 "$fsid/remount-content" /mnt/m /data/meta.sha256
		t_eq "$fsid/remount-zero-reads" 0 "$(t_reads_since)"
		t_umount /mnt/m
		t_wait_closes "$fsid"
	else
		t_fail "$fsid/remount" "$err"
	fi
done < /data/meta.images

# --- exactly one file read: the partial figure must be exact -------------
if [ -r /data/meta.part ]; then
	read -r fsid tag file want < /data/meta.part
	if err=$(t_od_mount /mnt/p "$fsid"); then
		cat "/mnt/p/$file" > /dev/null
		t_umount /mnt/p
		t_wait_closes "$fsid"
		/bin/erofs-cookies check --cache-dir $CD --blob-dir /data/blobs \
			--fsid "$fsid" "/data/blobs/$fsid" > /run/check.out 2>&1
		t_eq partial-check-exit 1 "$?"
		got=$(awk '$2 == "blob" { print $5 }' /run/check.out)
		t_eq partial-blob-bytes-present "$want" "$got"
		t_artifact /run/check.out partial-check.txt
	else
		t_fail partial-mount "$err"
	fi
fi

# --- a domain: two images, one shared blob, one OPEN for it --------------
if [ -r /data/meta.domain ]; then
	read -r dom fa fb tag < /data/meta.domain
	t_mark
	if err=$(t_od_mount /mnt/da "$fa" "domain_id=$dom") &&
	   err=$(t_od_mount /mnt/db "$fb" "domain_id=$dom"); then
		t_ok domain-mounts
		t_sha256 domain-a-content /mnt/da /data/meta.sha256
		t_mark
		t_sha256 domain-b-content /mnt/db /data/meta.sha256
		t_eq domain-b-blob-no-reads 0 "$(t_reads_since "$tag")"
		t_umount /mnt/db
		t_umount /mnt/da
		t_wait_closes "$fa"
		t_wait_closes "$fb"
	else
		t_fail domain-mounts "$err"
	fi
	# the log since the first mount: one OPEN for the shared blob
	n=$(grep -E 'OPEN msg_id' "$T_DAEMON_LOG" | grep -c "erofs,$dom")
	t_eq domain-three-opens 3 "$n"
	n=$(grep -E 'OPEN msg_id' "$T_DAEMON_LOG" | grep "erofs,$dom" |
		grep -c -E "[ (]$tag[) ]")
	t_eq domain-blob-opened-once 1 "$n"
fi
t_daemon_stop
cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-meta.log
t_dmesg_clean kernel-log-clean
