# SPDX-License-Identifier: GPL-2.0-or-later
#
# erofs-fetchd's cache garbage collection (--cull-age, --cull-interval)
# against cachefiles' "inuse" and "cull" commands:
#   * objects of an image that was mounted, read and unmounted (so the
#     kernel linked its cache files in), older than the age, are culled:
#     the files go, the log names them, and a later mount READs them again
#     and reads right data;
#   * objects of a mounted image are kept however old they look ("inuse"
#     answers EBUSY, the daemon logs "in use");
#   * objects younger than the age are kept;
#   * the graveyard is emptied: the kernel buries a directory it finds where
#     a cache file should be, and the daemon deletes it;
#   * an object in use until its unmount counts as used at the unmount,
#     even when its atime is stale (relatime: the kernel's atime update at
#     lookup only happens once a day after the first one).
# Ages come from "touch -d", not from waiting: the age is 600 s, old files
# are set 1200 s back, young ones 300 s back, so a slow guest changes
# nothing.  The daemon passes once a second; a check waits until a pass has
# run completely after the touches (see wait_passes).
# Images: copies of od-boot (erofs-utils, one blob named by device=) under
# three fsids, each its own volume, served from /run/cullsrc.

FD=/bin/erofs-fetchd
if [ ! -x $FD ]; then
	t_skip all "erofs-fetchd not built"
	return 0
fi
t_use_fetchd
CD=/cache/cull
AGE=600
t_cache_setup || return 1
mkdir -p $CD /run/cullsrc
for n in cull-a cull-b cull-c; do
	cp /data/blobs/od-boot /run/cullsrc/$n
done
cp /data/blobs/od-blob /run/cullsrc/od-blob

# the cache files of image $1, sorted, on one line
files_of() {
	find "$CD/cache/Ierofs,$1" -type f 2>/dev/null | sort | tr '\n' ' '
}
# age the cache files of image $1 to $2 seconds back
age_files() {
	local f t=$(( $(date +%s) - $2 )) bad=
	for f in $(files_of "$1"); do
		touch -d "@$t" "$f"
		[ "$(stat -c %X.%Y "$f")" = "$t.$t" ] || bad="$bad $f"
	done
	[ -z "$bad" ] || t_fail "$1-aged" "touch -d @$t did not take:$bad"
}
# "PATH a=ATIME m=MTIME ..." for the cache files of image $1
times_of() {
	local f
	for f in $(files_of "$1"); do
		echo "$f $(stat -c 'a=%X m=%Y' "$f")"
	done | tr '\n' ' '
}
# lines "PATH: in use" since the mark
inuse_since() {
	tail -n +$(( $(cat /run/t_mark) + 1 )) "$T_DAEMON_LOG" |
		grep -c -F "$1: in use"
}
# wait_passes PATH: PATH is an old cache file of a mounted image, so every
# pass logs it "in use".  Its third line after the mark comes from a pass
# that started after the pass running at the mark (if any) had ended, so
# one whole pass ran after the mark.
wait_passes() {
	local i=0
	while [ "$(inuse_since "$1")" -lt 3 ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(inuse_since "$1")" -ge 3 ]
}
# mount_read NAME WHEN: mount image NAME, read everything, check the bytes
mount_read() {
	local err
	if ! err=$(t_od_mount "/mnt/$1" "$1" device=od-blob); then
		t_fail "$1-$2-mount" "$err"
		return 1
	fi
	t_sha256 "$1-$2-content" "/mnt/$1" /data/od.sha256
}

if ! err=$(t_daemon_start $FD --cache-dir $CD --source /run/cullsrc -v \
		--cull-age $AGE --cull-interval 1); then
	t_fail daemon-bound "$err"
	return 1
fi
t_ok daemon-bound

# --- the three states --------------------------------------------------------
# B: mounted, read, unmounted, mounted again (the mount opens the committed
# files, which stay in use) and aged: from now on every pass logs it "in
# use" (its OPEN made the daemon forget its CLOSE).  A and C: mounted, read,
# unmounted.
for n in cull-b cull-a cull-c; do
	mount_read $n first || return 1
	t_umount /mnt/$n
	# the kernel links the files in when it lets the objects go, which
	# may end after umount returned: bootstrap and blob
	i=0
	while [ "$(files_of $n | wc -w)" -lt 2 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	files_of $n | tr ' ' '\n' | grep . > /run/$n.files
	t_eq "$n-committed-files" 2 "$(wc -l < /run/$n.files)"
	if [ $n = cull-b ]; then
		mount_read cull-b again || return 1
		# no reading after this: a read would move the atime
		age_files cull-b $((2 * AGE))
	fi
done
bblob=$(grep '/Dod-blob$' /run/cull-b.files)
bboot=$(grep '/Dcull-b$' /run/cull-b.files)
# The daemon puts the CLOSEs of A and C on their atimes in its next pass;
# age them after that.
t_mark
if ! wait_passes "$bblob"; then
	t_fail pass-after-closes "no complete pass (now $(date +%s)): $(times_of cull-b) log: $(grep -v 'READ msg' "$T_DAEMON_LOG" | tail -n 3 | tr '\n' ' ')"
	return 1
fi
age_files cull-a $((2 * AGE))
age_files cull-c $((AGE / 2))
t_mark
if wait_passes "$bblob"; then
	t_ok pass-after-aging
else
	t_fail pass-after-aging "no complete pass after the touches (now $(date +%s)): $(times_of cull-b) log: $(grep -v 'READ msg' "$T_DAEMON_LOG" | tail -n 3 | tr '\n' ' ')"
fi

# 1. old and unmounted: culled (the kernel unlinks files; only directories
# go to the graveyard) and logged
left=$(files_of cull-a)
t_eq old-unused-files-culled "" "$left"
bad=0
while read -r f; do
	grep -q -F "culled $f (unused for " "$T_DAEMON_LOG" || {
		t_fail old-unused-cull-logged "no 'culled $f' in the log"
		bad=1
	}
done < /run/cull-a.files
[ $bad = 0 ] && t_ok old-unused-cull-logged
t_check cull-count-logged grep -q -E 'culled [0-9]+ cache files' "$T_DAEMON_LOG"
# 2. old but mounted: "inuse" said EBUSY for both objects, nothing culled
t_eq mounted-files-kept "$(cat /run/cull-b.files | tr '\n' ' ')" "$(files_of cull-b)"
n=$(inuse_since "$bboot")
[ "$n" -ge 1 ] && t_ok mounted-bootstrap-in-use ||
	t_fail mounted-bootstrap-in-use "no '$bboot: in use' in the log"
t_check_fails mounted-not-culled grep -q -F "culled $CD/cache/Ierofs,cull-b/" "$T_DAEMON_LOG"
# 3. young: kept, not even asked about
t_eq young-files-kept "$(cat /run/cull-c.files | tr '\n' ' ')" "$(files_of cull-c)"
t_check_fails young-not-considered grep -q -F "$CD/cache/Ierofs,cull-c/" "$T_DAEMON_LOG"

# --- a culled image comes back; the graveyard is emptied ----------------------
# a directory where A's bootstrap file was: the kernel buries it in the
# graveyard when the mount looks the object up, only the daemon deletes it
aboot=$(grep '/Dcull-a$' /run/cull-a.files)
mkdir -p "$aboot/sub"
echo grave > "$aboot/sub/cull-marker"
t_mark
if mount_read cull-a after-cull; then
	n=$(t_reads_since od-blob)
	[ "$n" -gt 0 ] && t_ok culled-blob-read-again ||
		t_fail culled-blob-read-again "no READ for od-blob after the cull"
	n=$(t_reads_since cull-a)
	[ "$n" -gt 0 ] && t_ok culled-bootstrap-read-again ||
		t_fail culled-bootstrap-read-again "no READ for cull-a after the cull"
fi
if dmesg | grep -q 'Dcull-a is not a file'; then
	t_ok kernel-buried-directory
else
	t_fail kernel-buried-directory "no 'Dcull-a is not a file' in dmesg"
fi
t_mark
if wait_passes "$bblob"; then
	t_eq graveyard-emptied "" "$(ls -A $CD/graveyard)"
	t_eq buried-tree-deleted "" "$(find /cache -name cull-marker)"
else
	t_fail graveyard-emptied "no complete pass after the mount"
fi

# --- in use until the unmount: used at the unmount ---------------------------
# B's files look 1200 s old, but B was mounted until now: they must stay.
# C, mounted and aged, shows the passes.
mount_read cull-c again || return 1
age_files cull-c $((2 * AGE))
cblob=$(grep '/Dod-blob$' /run/cull-c.files)
t0=$(date +%s)
t_umount /mnt/cull-b
t_mark
if wait_passes "$cblob"; then
	t_eq used-until-umount-kept "$(cat /run/cull-b.files | tr '\n' ' ')" "$(files_of cull-b)"
	# and the daemon wrote the unmount onto the files' atime
	bad=
	for f in $(files_of cull-b); do
		[ "$(stat -c %X "$f")" -ge "$t0" ] || bad="$bad $f"
	done
	t_eq used-until-umount-atime "" "$bad"
else
	t_fail used-until-umount-kept "no complete pass after the unmount"
fi

t_umount /mnt/cull-a
t_umount /mnt/cull-c
t_daemon_stop
cp "$T_DAEMON_LOG" /cache/artifacts/fetchd-cull.log
t_dmesg_clean kernel-log-clean
