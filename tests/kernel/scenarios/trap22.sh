# SPDX-License-Identifier: GPL-2.0-or-later
#
# Kernel fact §22 (docs/kernel-facts.md): a chunk hole followed by mapped data in one
# readahead window.  6.12's erofs_fscache_data_read_slice zero-fills the rest
# of the whole request at the hole, so the data after it reads back as zeros.
# kernel/patches/0001-* bounds the zeroing to the hole.  The image "t22" (one
# device, data in the image itself) has files whose zero chunks were turned
# into holes (tests/kernel/punch-holes.py); the host checked it reads right
# through a loop mount.
#   T_KERNEL=patched:   every file must read back right
#   T_KERNEL=unpatched: the bug must show (proves the test can see it)

t_cache_setup || return 1
mkdir -p /cache/fscache-t22
if ! err=$(t_daemon_start /bin/ondemand-mini /cache/fscache-t22 /data/blobs); then
	t_fail daemon-bound "$err"
	return 1
fi
if ! err=$(t_od_mount /mnt/t22 t22); then
	t_fail mount "$err"
	return 1
fi
t_ok mount
# plain sequential reads: readahead windows start at the hole
out=$(cd /mnt/t22 && sha256sum -c /data/t22.sha256 2>&1)
bad=$(echo "$out" | grep -v ': OK$' | tr '\n' ';')
case "${T_KERNEL:-patched}" in
patched)
	if [ -z "$bad" ]; then t_ok holes-read-back-right; else
		t_fail holes-read-back-right "$bad"; fi
	;;
unpatched)
	if echo "$out" | grep -q -E '^(holefirst|sparse): FAILED'; then
		t_ok bug-shows-on-unpatched-kernel
		echo "guest: kernel fact §22 (hole zeroing) on the unpatched kernel: $bad"
	else
		t_fail bug-shows-on-unpatched-kernel "hole files read back right: $out"
	fi
	# files without holes are unaffected
	t_check no-hole-file-right sh -c "echo \"$out\" | grep -q '^plain: OK'"
	;;
esac
t_umount /mnt/t22
t_daemon_stop
t_dmesg_clean kernel-log-clean
