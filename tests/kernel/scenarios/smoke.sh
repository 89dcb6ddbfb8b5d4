# SPDX-License-Identifier: GPL-2.0-or-later
#
# Smoke test: the pieces of the kernel suite work at all.  ext4 cache disk,
# /dev/cachefiles (bound from busybox sh, no daemon protocol), erofs
# registered, and a plain (non-fscache) loop mount of an image made on the
# host by erofs-utils, checked by sha256.

t_cache_setup || return 1
t_ok cache-disk-mounted
t_check erofs-registered grep -qw erofs /proc/filesystems
t_check dev-cachefiles-exists test -c /dev/cachefiles
t_eq kernel-variant "$T_KERNEL" "$(uname -r | sed 's/.*-//')"

# Bind the cache by hand: one command per write(2), as busybox echo does.
mkdir -p /cache/smoke
if exec 3<>/dev/cachefiles; then
	t_check cachefiles-dir sh -c 'echo "dir /cache/smoke" >&3'
	t_check cachefiles-tag sh -c 'echo "tag smoke" >&3'
	t_check cachefiles-bind-ondemand sh -c 'echo "bind ondemand" >&3'
	# only one opener system-wide
	t_check_fails cachefiles-second-open-busy sh -c 'exec 4<>/dev/cachefiles'
	exec 3>&-
	t_check cache-tree-created test -d /cache/smoke/cache -a -d /cache/smoke/graveyard
else
	t_fail cachefiles-open "cannot open /dev/cachefiles"
fi

# The cache directory cannot be tmpfs (no sync_fs) -- docs/kernel-facts.md §21.  The device
# is free again once the previous opener closed it and the cache unbound.
mkdir -p /tmp/notacache
i=0
while ! (exec 4<>/dev/cachefiles) 2>/dev/null && [ $i -lt 20 ]; do
	sleep 0.1
	i=$((i + 1))
done
if exec 3<>/dev/cachefiles; then
	echo "dir /tmp/notacache" >&3
	t_check_fails cachefiles-tmpfs-rejected sh -c 'echo "bind ondemand" >&3'
	exec 3>&-
else
	t_fail cachefiles-reopen "/dev/cachefiles still busy after the first cache closed"
fi

mkdir -p /mnt/smoke
if t_check loop-mount-erofs mount -t erofs -o ro /data/smoke.erofs /mnt/smoke; then
	t_sha256 loop-mount-content /mnt/smoke /data/smoke.sha256
	umount /mnt/smoke
fi
