# SPDX-License-Identifier: GPL-2.0-or-later
#
# erofs-mount on a kernel with cachefiles and without fanotify pre-content
# hooks (CONFIG_FANOTIFY is off here), so its automatic choice must be the
# cachefiles backend: it starts erofs-fetchd (--supervise --control
# --exit-when-idle) on the cache directory, registers the image and mounts
# fsid=.  Images: the metadata-rich tree (tests/kernel/mktree.sh) from our
# mkfs.erofs, checked field by field (metalist) and byte by byte against
# listings made on the host.
#   1. a manifest with an fsid, no --source (the manifest's directory):
#      the daemon is started; a metadata walk fetches no blob byte (the
#      --list figure stays within the bootstrap's size); reading the files
#      fetches; --list shows the mount, its backend, source and bytes;
#   2. a bare bootstrap whose device tags are SHA-256, --source DIR (its
#      blob is elsewhere), while 1 is mounted: the running daemon is reused;
#   3. a manifest over HTTP (busybox httpd on the guest's loopback), also
#      reusing the daemon: a metadata walk sends no request for the blob,
#      reading the files does;
#   -u of each unmounts and forgets it; after the last one the daemon it
#   started is gone and /dev/cachefiles is free again;
#   4. OCI layouts erofs-convert made of tests/lib/oci-image.sh's umoci
#      image (a new daemon): merged, its tree equal to `umoci unpack`;
#      --no-merge, each layer an fsid= mount served lazily by the one
#      daemon and stacked by overlayfs, equal to the same layout fetched
#      whole (--backend full) and holding umoci's files; -u of all leaves
#      nothing mounted and no daemon;
#   5. a cache directory on tmpfs: the kernel refuses it (cachefiles needs
#      sync_fs), erofs-mount refuses it first, naming the reason.
# /data/em.images: "TAG64K TAG4K TAG1M"; /data/em/: em-man.json,
# em-man.boot and the 64 KiB blob; /data/em-http.json: the 1 MiB image's
# manifest (fsid em-http) with paths as published by httpd on /data/blobs.

EM=/bin/erofs-mount
if [ ! -x $EM ] || [ ! -x /bin/erofs-fetchd ] || [ ! -x /bin/metalist ] ||
   [ ! -r /data/em.images ]; then
	t_skip all "erofs-mount, erofs-fetchd, metalist or the images not built"
	return 0
fi
CD=/cache/emount
ST=/run/emount-state
PORT=8085
URL=http://127.0.0.1:$PORT/
HLOG=/run/httpd-emount.log
t_cache_setup || return 1
read -r t64 t4 t1m < /data/em.images
em() { $EM --cache-dir $CD --state-dir $ST "$@"; }

# listed MNT FIELD: a field of MNT's --list line (2 backend, 3 source,
# 4 "FETCHED/TOTAL")
listed() { em --list 2>&1 | awk -v m="$1" -v f="$2" '$1 == m { print $f }'; }
fetched() { listed "$1" 4 | cut -d/ -f1; }
total() { listed "$1" 4 | cut -d/ -f2; }
# fsize FILE
fsize() { stat -c %s "$1"; }
# check_tree NAME MNT: metadata and bytes equal the host's listings
check_tree() {
	/bin/metalist "$2" > "/run/em-$1.list" 2> "/run/em-$1.err" ||
		t_fail "$1-metalist" "$(tail -n 1 "/run/em-$1.err")"
	t_same_list "$1-metadata-equal" /data/meta.list "/run/em-$1.list"
	t_sha256 "$1-content" "$2" /data/meta.sha256
}
# fetchd_pids: the erofs-fetchd processes (supervisor and daemon)
fetchd_pids() {
	for p in /proc/[0-9]*; do
		case "$(cat "$p/cmdline" 2>/dev/null | tr '\0' ' ')" in
		*erofs-fetchd*) echo "${p#/proc/}" ;;
		esac
	done
}

t_check no-fetchd-before test -z "$(fetchd_pids)"
mkdir -p $CD /mnt/em1 /mnt/em2 /mnt/em3

# --- 1. a manifest, its directory as the source ------------------------------
if ! em /data/em/em-man.json /mnt/em1 > /run/em1.out 2>&1; then
	t_fail manifest-mount "$(tail -n 3 /run/em1.out | tr '\n' ' ')"
	t_artifact /run/em1.out
	[ -r $CD/erofs-fetchd.log ] && t_artifact $CD/erofs-fetchd.log
	return 1
fi
t_ok manifest-mount
t_artifact /run/em1.out
t_check manifest-chose-cachefiles grep -q -x \
	'erofs-mount: backend cachefiles (cachefiles on-demand mode)' /run/em1.out
t_check manifest-started-daemon grep -q \
	"^erofs-mount: started erofs-fetchd for $CD " /run/em1.out
t_check manifest-fsid-mount grep -q " /mnt/em1 erofs .*fsid=em-man" /proc/mounts
t_check daemon-running test -n "$(fetchd_pids)"
boot64=$(fsize /data/em/em-man.boot)
want_total=$((boot64 + $(fsize "/data/em/$t64")))
t_eq manifest-list-backend-source-total \
	"cachefiles /data/em $want_total" \
	"$(listed /mnt/em1 2) $(listed /mnt/em1 3) $(total /mnt/em1)"
# lazy: the metadata needs the bootstrap only
ls -lRa /mnt/em1 > /dev/null 2>&1
/bin/metalist /mnt/em1 > /dev/null 2>&1
n=$(fetched /mnt/em1)
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -le "$boot64" ]; then
	t_ok manifest-metadata-walk-fetches-no-blob
else
	t_fail manifest-metadata-walk-fetches-no-blob \
		"fetched '$n' after a metadata walk, bootstrap $boot64 bytes"
fi
check_tree manifest /mnt/em1
n=$(fetched /mnt/em1)
if [ -n "$n" ] && [ "$n" -gt "$boot64" ] && [ "$n" -le "$want_total" ]; then
	t_ok manifest-list-bytes-fetched
else
	t_fail manifest-list-bytes-fetched "fetched '$n' of $want_total after reading every file"
fi
em --list > /run/em-list.out 2>&1
t_artifact /run/em-list.out

# --- 2. a bare bootstrap, --source DIR, the daemon reused ---------------------
# the bootstrap alone in a directory: its blob is only in the source
mkdir -p /run/em-bare
cp /data/blobs/meta-4k /run/em-bare/boot
if em --source /data/blobs /run/em-bare/boot /mnt/em2 > /run/em2.out 2>&1; then
	t_ok bare-mount
	t_check bare-chose-cachefiles grep -q -x \
		'erofs-mount: backend cachefiles (cachefiles on-demand mode)' /run/em2.out
	t_check bare-reused-daemon grep -q -x \
		"erofs-mount: reusing the erofs-fetchd of $CD" /run/em2.out
	sha=$(sha256sum /run/em-bare/boot | cut -d' ' -f1)
	t_check bare-fsid-is-bootstrap-sha256 grep -q \
		" /mnt/em2 erofs .*fsid=$sha" /proc/mounts
	check_tree bare /mnt/em2
	t_eq bare-list-backend-source "cachefiles /data/blobs" \
		"$(listed /mnt/em2 2) $(listed /mnt/em2 3)"
	n=$(fetched /mnt/em2)
	[ -n "$n" ] && [ "$n" -gt "$(fsize /run/em-bare/boot)" ] &&
		t_ok bare-list-bytes-fetched ||
		t_fail bare-list-bytes-fetched "fetched '$n'"
else
	t_fail bare-mount "$(tail -n 3 /run/em2.out | tr '\n' ' ')"
fi
t_artifact /run/em2.out

# --- 3. a manifest over HTTP --------------------------------------------------
# httpd -vv: "IP:PORT: url:/PATH" per request
: > $HLOG
httpd -f -vv -p 127.0.0.1:$PORT -h /data/blobs 2>> $HLOG &
hpid=$!
echo $hpid >> /run/t_pids
i=0
while ! wget -q -O /dev/null "${URL}meta-1M" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
blob_gets() { grep -c "url:/$t1m\$" $HLOG; }
if em --source $URL /data/em-http.json /mnt/em3 > /run/em3.out 2>&1; then
	t_ok http-mount
	t_check http-reused-daemon grep -q -x \
		"erofs-mount: reusing the erofs-fetchd of $CD" /run/em3.out
	ls -lRa /mnt/em3 > /dev/null 2>&1
	/bin/metalist /mnt/em3 > /dev/null 2>&1
	t_eq http-metadata-walk-no-blob-request 0 "$(blob_gets)"
	check_tree http /mnt/em3
	n=$(blob_gets)
	[ "$n" -gt 0 ] && t_ok http-content-requests-blob ||
		t_fail http-content-requests-blob "no request for /$t1m"
	t_eq http-list-source "$URL" "$(listed /mnt/em3 3)"
else
	t_fail http-mount "$(tail -n 3 /run/em3.out | tr '\n' ' ')"
fi
t_artifact /run/em3.out
cp $HLOG /cache/artifacts/

# --- unmount: each forgotten, the daemon gone after the last ------------------
# the same fsid twice: the kernel says EBUSY, erofs-mount cleans up, and
# the first mount keeps being served
mkdir -p /mnt/em4
t_check_fails same-image-twice-refused em /data/em/em-man.json /mnt/em4
t_check_fails same-image-twice-not-listed sh -c "$EM --state-dir $ST --list | grep -q '^/mnt/em4 '"
echo 3 > /proc/sys/vm/drop_caches
t_sha256 first-mount-still-reads /mnt/em1 /data/meta.sha256
for m in /mnt/em1 /mnt/em2 /mnt/em3; do
	grep -q " $m erofs " /proc/mounts || continue
	n=${m#/mnt/}
	if em -u $m > /run/em-u.out 2>&1; then
		t_ok "$n-umount"
	else
		t_fail "$n-umount" "$(tail -n 2 /run/em-u.out | tr '\n' ' ')"
	fi
	t_check_fails "$n-not-mounted" grep -q " $m erofs " /proc/mounts
	t_check_fails "$n-not-listed" sh -c "$EM --state-dir $ST --list | grep -q '^$m '"
done
i=0
while [ -n "$(fetchd_pids)" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_eq daemon-gone-after-last-umount "" "$(fetchd_pids)"
# the cache unbinds once the kernel let go of every object
i=0
while ! (exec 4<>/dev/cachefiles) 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_check device-free-again sh -c 'exec 4<>/dev/cachefiles'

# --- 4. OCI layouts erofs-convert wrote ---------------------------------------
# merged: the tree equals `umoci unpack`; --no-merge: each layer a
# cachefiles mount fsid=DIGEST served by the one daemon, stacked by
# overlayfs, equal to the same layout fetched whole (--backend full) and
# holding umoci's files
if [ -r /data/oci.list ]; then
	mkdir -p /mnt/em5 /mnt/em6 /mnt/em7
	if em oci:/data/oci-m /mnt/em5 > /run/em5.out 2>&1; then
		t_ok oci-merged-mount
		t_check oci-merged-chose-cachefiles grep -q -x \
			'erofs-mount: backend cachefiles (cachefiles on-demand mode)' /run/em5.out
		/bin/metalist /mnt/em5 > /run/em5.list 2> /run/em5.err ||
			t_fail oci-merged-metalist "$(tail -n 1 /run/em5.err)"
		t_same_list oci-merged-equals-umoci-unpack /data/oci.list /run/em5.list
		t_sha256 oci-merged-content /mnt/em5 /data/oci.sha256
	else
		t_fail oci-merged-mount "$(tail -n 3 /run/em5.out | tr '\n' ' ')"
	fi
	t_artifact /run/em5.out
	if em oci:/data/oci-nm /mnt/em6 > /run/em6.out 2>&1; then
		t_ok oci-stack-mount
		t_check oci-stack-cachefiles-4-layers sh -c "grep -q 'backend cachefiles' /run/em6.out &&
			grep -q '4 standalone layers' /run/em6.out"
		t_check oci-stack-overlay grep -q " /mnt/em6 overlay ro," /proc/mounts
		t_eq oci-stack-4-layer-mounts-fsid-digest 4 \
			"$(grep -c " $CD/stacks/[0-9a-f]*/[1-4] erofs ro,.*fsid=[0-9a-f]\{64\}" /proc/mounts)"
		total=$(total /mnt/em6)
		/bin/metalist /mnt/em6 > /run/em6.list 2> /run/em6.err ||
			t_fail oci-stack-metalist "$(tail -n 1 /run/em6.err)"
		n=$(fetched /mnt/em6)
		if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$total" ]; then
			t_ok oci-stack-metadata-walk-fetches-part
		else
			t_fail oci-stack-metadata-walk-fetches-part "fetched '$n' of '$total'"
		fi
		t_sha256 oci-stack-content /mnt/em6 /data/oci.sha256
		n2=$(fetched /mnt/em6)
		[ -n "$n2" ] && [ "$n2" -gt "$n" ] && t_ok oci-stack-reading-fetches ||
			t_fail oci-stack-reading-fetches "fetched '$n2', '$n' before"
		em --list > /run/em-list6.out 2>&1
		t_check oci-stack-listed grep -q \
			"^/mnt/em6 .* cachefiles .*/$total (.*), 4 layers stacked by overlayfs" /run/em-list6.out
		t_check oci-stack-whiteouts-applied sh -c \
			"[ ! -e /mnt/em6/data/big-copy ] && [ ! -e /mnt/em6/usr/bin/tool-link ]"
		t_eq oci-stack-opaque-dir-applied new "$(ls -A /mnt/em6/opq)"
		# the reference: the stack of whole fetched layers (a
		# file-backed mount of each, Linux 6.12+)
		if ! t_kernel_at_least 6 12; then
			t_skip oci-stack-equals-whole-fetched-stack \
				"no file-backed EROFS mounts before 6.12"
		elif em --backend full oci:/data/oci-nm /mnt/em7 > /run/em7.out 2>&1; then
			/bin/metalist /mnt/em7 > /run/em7.list 2>&1
			t_same_list oci-stack-equals-whole-fetched-stack /run/em7.list /run/em6.list
		else
			t_fail oci-stack-full-mount "$(tail -n 3 /run/em7.out | tr '\n' ' ')"
		fi
		[ -r /run/em7.out ] && t_artifact /run/em7.out
	else
		t_fail oci-stack-mount "$(tail -n 3 /run/em6.out | tr '\n' ' ')"
	fi
	t_artifact /run/em6.out
	for m in /mnt/em5 /mnt/em6 /mnt/em7; do
		grep -q " $m " /proc/mounts || continue
		t_check "oci-${m#/mnt/}-umount" em -u $m
	done
	t_eq oci-nothing-mounted "" "$(grep -E " /mnt/em[567] | $CD/stacks/" /proc/mounts)"
	i=0
	while [ -n "$(fetchd_pids)" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	t_eq oci-daemon-gone "" "$(fetchd_pids)"
else
	t_skip oci "no OCI layouts (umoci or erofs-convert missing on the host)"
fi

# --- 5. a cache directory on tmpfs --------------------------------------------
# cachefiles binds only to a filesystem with sync_fs (fs/cachefiles/
# cache.c): the kernel refuses tmpfs, erofs-mount says so up front
mkdir -p /run/emtmp /mnt/em8
mount -t tmpfs none /run/emtmp
echo /run/emtmp >> /run/t_mounts
dmesg -c > /dev/null 2>&1 || :
/bin/erofs-fetchd --backend cachefiles --cache-dir /run/emtmp \
	--source /data/em > /run/emtmp-fetchd.out 2>&1 &
fp=$!
i=0
while kill -0 $fp 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill $fp 2>/dev/null; then
	t_fail tmpfs-kernel-refuses "erofs-fetchd still runs"
else
	t_check tmpfs-kernel-refuses sh -c \
		"dmesg | grep -q 'CacheFiles: Failed to register: -95'"
fi
t_artifact /run/emtmp-fetchd.out
if $EM --cache-dir /run/emtmp --state-dir $ST /data/em/em-man.json /mnt/em8 \
	> /run/em8.out 2>&1; then
	t_fail tmpfs-cache-refused "mounted: $(tail -n 2 /run/em8.out | tr '\n' ' ')"
	umount /mnt/em8
else
	t_check tmpfs-cache-refused-clearly grep -q \
		"/run/emtmp is on tmpfs: the cachefiles backend needs a disk filesystem" /run/em8.out
fi
t_check_fails tmpfs-nothing-mounted grep -q " /mnt/em8 " /proc/mounts
t_eq tmpfs-no-daemon "" "$(fetchd_pids)"
t_artifact /run/em8.out
kill $hpid 2>/dev/null
wait $hpid 2>/dev/null
t_artifact $CD/erofs-fetchd.log fetchd-emount.log
t_dmesg_clean kernel-log-clean
