# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our own toolchain end to end: an image built on the host by our
# mkfs.erofs (bootstrap "ours-boot", blob named by its tag, all-zero chunks,
# a sparse file, a file whose first chunk is zeros) served by erofs-fetchd.
# Runs on the patched and the unpatched kernel: our mkfs must not write the
# chunk holes that trip 6.12's fscache read path (docs/kernel-facts.md §22).  Then
# erofs-cookies checks, against the cache the real kernel wrote, that it
# predicts the cache file paths (and finds them complete).

if [ ! -x /bin/erofs-fetchd ] || [ ! -r /data/ours.sha256 ]; then
	t_skip all "erofs-fetchd or the mkfs.erofs image not built"
	return 0
fi
t_use_fetchd
CD=/cache/ours
t_cache_setup || return 1
mkdir -p $CD
if ! err=$(t_daemon_start /bin/erofs-fetchd --cache-dir $CD --source /data/blobs -v); then
	t_fail daemon-bound "$err"
	return 1
fi
t_ok daemon-bound
if err=$(t_od_mount /mnt/ours ours-boot); then
	t_ok mount
	t_sha256 content /mnt/ours /data/ours.sha256
	t_umount /mnt/ours
	t_wait_closes ours-boot
else
	t_fail mount "$err"
fi
t_daemon_stop
cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-ours.log

if [ -x /bin/erofs-cookies ]; then
	# every file was read: the cache must be complete where it predicts
	t_check cookies-check-complete /bin/erofs-cookies check \
		--cache-dir $CD --fsid ours-boot /data/blobs/ours-boot
	# a volume nobody mounted is not cached: exit 1 (2 would be an error)
	/bin/erofs-cookies check --cache-dir $CD --fsid never-mounted \
		/data/blobs/ours-boot > /run/cookies.out 2>&1
	t_eq cookies-check-unused-fsid-uncached 1 "$?"
fi
t_dmesg_clean kernel-log-clean
