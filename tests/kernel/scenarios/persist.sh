# SPDX-License-Identifier: GPL-2.0-or-later
#
# Second boot on the cache disk of the first: the cache files committed at
# umount (with their user.CacheFiles.cache xattr) are reused, so reading the
# same files again needs no READ at all.

t_cache_setup || return 1
t_check cache-volume-present test -d "/cache/fscache/cache/Ierofs,od-boot"
if ! err=$(t_daemon_start /bin/ondemand-mini /cache/fscache /data/blobs); then
	t_fail daemon-bound "$err"
	return 1
fi
t_mark
if err=$(t_od_mount /mnt/od od-boot device=od-blob); then
	t_sha256 content /mnt/od /data/od.sha256
	t_eq zero-reads-after-reboot 0 "$(t_reads_since)"
	t_umount /mnt/od
else
	t_fail mount "$err"
fi
t_dmesg_clean kernel-log-clean
