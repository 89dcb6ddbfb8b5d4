# SPDX-License-Identifier: GPL-2.0-or-later
#
# Boot B on boot A's cache disk: the images of scenario "meta" (our
# mkfs.erofs, served by erofs-fetchd) are read back after the reboot without
# a single READ, bootstrap or blob; and the daemon, asked to --prefetch,
# sees that the cache files are complete and fetches nothing.

if [ ! -x /bin/erofs-fetchd ] || [ ! -r /data/meta.images ]; then
	t_skip all "erofs-fetchd or the meta images not built"
	return 0
fi
t_use_fetchd
t_cache_setup || return 1
t_daemon_stop	# the previous scenario's daemon
if ! err=$(t_daemon_start /bin/erofs-fetchd --cache-dir /cache/meta \
		--source /data/blobs --prefetch -v); then
	t_fail daemon-bound "$err"
	return 1
fi
while read -r fsid tag; do
	t_mark
	if err=$(t_od_mount /mnt/m "$fsid"); then
		t_sha256 "$fsid/content" /mnt/m /data/meta.sha256
		t_eq "$fsid/zero-reads-after-reboot" 0 "$(t_reads_since)"
		t_eq "$fsid/opens" 2 "$(t_opens_since)"
		t_umount /mnt/m
		t_wait_closes "$fsid"
	else
		t_fail "$fsid/mount" "$err"
	fi
done < /data/meta.images
t_daemon_stop
# the exit statistics: nothing fetched from the source
fetched=$(sed -n 's/.*stats (exit):.* fetched \([0-9]*\) B .*/\1/p' \
	"$T_DAEMON_LOG" | tail -1)
t_eq prefetch-fetches-nothing-cached 0 "${fetched:-missing}"
t_dmesg_clean kernel-log-clean
