# SPDX-License-Identifier: GPL-2.0-or-later
#
# A cache seeded offline by "erofs-cookies seed" (on the host, straight onto
# the ext4 cache disk through a loop mount; or here in the guest when the
# host could not, T_SEED_IN_GUEST=1) serves a mount with no READ at all:
# neither the bootstrap nor the blob is fetched, and the data is right.
# /data/meta.seed: "FSID TAG".

if [ ! -x /bin/erofs-fetchd ] || [ ! -x /bin/metalist ] ||
   [ ! -r /data/meta.seed ]; then
	t_skip all "erofs-fetchd, metalist or the seed image not built"
	return 0
fi
t_use_fetchd
CD=/cache/seeded
t_cache_setup || return 1
read -r fsid tag < /data/meta.seed

if [ "${T_SEED_IN_GUEST:-0}" = 1 ]; then
	t_check seed-in-guest /bin/erofs-cookies seed --cache-dir $CD \
		--blob-dir /data/blobs --fsid "$fsid" "/data/blobs/$fsid"
fi
t_check seeded-cache-complete /bin/erofs-cookies check --cache-dir $CD \
	--blob-dir /data/blobs --fsid "$fsid" "/data/blobs/$fsid"

if ! err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD \
		--source /data/blobs -v); then
	t_fail daemon-bound "$err"
	return 1
fi
t_ok daemon-bound
t_mark
if err=$(t_od_mount /mnt/s "$fsid"); then
	t_ok mount
	/bin/metalist /mnt/s > /run/seeded.list 2>&1
	if cmp -s /data/meta.list /run/seeded.list; then
		t_ok metadata-equal
	else
		t_fail metadata-equal "$(diff /data/meta.list /run/seeded.list |
			grep '^[-+][^-+]' | head -n 3 | cut -c1-160 | tr '\n' ';')"
	fi
	t_sha256 content /mnt/s /data/meta.sha256
	t_eq zero-reads 0 "$(t_reads_since)"
	# the daemon did serve this mount: bootstrap and blob were opened
	t_eq bootstrap-opened 1 "$(t_opens_since "$fsid")"
	t_eq blob-opened 1 "$(t_opens_since "$tag")"
	t_umount /mnt/s
else
	t_fail mount "$err"
fi
t_daemon_stop
cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-seeded.log
t_dmesg_clean kernel-log-clean
