#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# erofs-mount on the host kernel: lazy mounts from nginx on 127.0.0.1
# (started here with its own config), --list, two images sharing a blob
# served by one daemon, an unmount while a read is in flight (refused, the
# mount keeps serving), --prefetch and --prefetch-list, a bootstrap as
# IMAGE, the full-fetch backend, and bad input.
#   BUILD=/path/to/build tests/integration/mount.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/lazy-common.sh"

lazy_need
lazy_setup
fanotify=1
lazy_has_fanotify || fanotify=0

# ---- nginx ----
lazy_nginx "$BLOBS"
port=$NGINX_PORT
check "nginx started on 127.0.0.1:$port" [ -s "$T/nginx/nginx.pid" ]

if [ $fanotify = 1 ]; then
	check "lazy mount from nginx" \
		lazy_mount web "$IMG" --source "http://127.0.0.1:$port/"
	emount --list >"$T/list.out"
	check "--list: the mount, its backend and source, nothing fetched yet" \
		grep -q "^$T/mnt/web  *fanotify  *http://127.0.0.1:$port/  *0/" "$T/list.out"
	# the mount's own read-ahead window (its bdi), told by the kernel
	check "the lazy mount's kernel read-ahead is 1024 KiB by default" \
		[ "$($PY "$LIB/erofs_mount.py" readahead "$T/mnt/web")" = 1024 ]
	$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/web" >"$T/cmp-web.log" 2>&1
	check "tree from nginx equals the source ($(tail -n1 "$T/cmp-web.log"))" \
		[ $? -eq 0 ]
	total=$(stat -c %s "$BLOBS/img.blob")
	check "--list: every byte fetched" [ "$(present_bytes web)" = "$total" ]
	plain_ra=$(kernel_ra)
	check "the blob complete, the daemon puts the kernel's window back ($plain_ra KiB)" \
		both wait_for bash -c "[ \"\$($PY '$LIB/erofs_mount.py' readahead '$T/mnt/web')\" = '$plain_ra' ]" -- \
		grep -q "image $T/mnt/web: blobs complete, read-ahead of erofs-[0-9]* back to $plain_ra KiB" "$T/cache/web/erofs-fetchd.log"
	check "-u unmounts" emount -u "$T/mnt/web"
	check "not mounted any more" bash -c "! mountpoint -q '$T/mnt/web'"
	check "-u forgets it" bash -c "! $EMOUNT --state-dir '$T/state' --list | grep -q '$T/mnt/web'"
fi
stop_nginx

# ---- two images sharing a blob ----
if [ $fanotify = 1 ]; then
	mkdir -p "$T/two"
	"$MKFS" --quiet -L other --chunksize=65536 \
		--blobdev="$T/two/img2.blob" --manifest="$T/two/img2.json" \
		"$T/two/img2.boot" "$SRC"
	TAG2=$(sed -n 's/.*"tag": "\([0-9a-f]*\)".*/\1/p' "$T/two/img2.json" | head -1)
	check "the second image shares the blob" [ "$TAG2" = "$TAG" ]
	mkdir -p "$T/mnt/s1" "$T/mnt/s2" "$T/cache/shared"
	LAZY_MOUNTS+=("$T/mnt/s1" "$T/mnt/s2")
	emount --cache-dir "$T/cache/shared" "$IMG" "$T/mnt/s1" >"$T/s1.log" 2>&1
	emount --cache-dir "$T/cache/shared" "$T/two/img2.json" "$T/mnt/s2" \
		>"$T/s2.log" 2>&1
	check "the second mount reuses the daemon" grep -q reusing "$T/s2.log"
	check "both mounted" both mountpoint -q "$T/mnt/s1" -- mountpoint -q "$T/mnt/s2"
	check "first image: big file right" cmp "$T/mnt/s1/big" "$SRC/big"
	emount -u "$T/mnt/s1" >/dev/null 2>&1
	drop_caches
	$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/s2" >"$T/cmp-s2.log" 2>&1
	check "second image whole after the first left ($(tail -n1 "$T/cmp-s2.log"))" \
		[ $? -eq 0 ]
	emount -u "$T/mnt/s2" >/dev/null 2>&1
	check "the daemon stops with the last image" \
		wait_for grep -q 'daemon exited (status 0); stopping' \
		"$T/cache/shared/erofs-fetchd.log"
fi

# ---- unmount while a read is in flight ----
if [ $fanotify = 1 ]; then
	mkdir -p "$T/stalled"
	cp "$BLOBS/img.blob" "$BLOBS/img.boot" "$IMG" "$T/stalled/"
	start_stall "$T/stalled"
	lazy_mount busy "$T/stalled/img.json" --source "http://127.0.0.1:$STALL_PORT/"
	touch "$T/stalled/.stall"
	cat "$T/mnt/busy/big" >"$T/busy.out" 2>"$T/busy.err" &
	reader=$!
	sleep 1
	emount -u "$T/mnt/busy" >"$T/busy-u.log" 2>&1
	rc=$?
	check "unmount with a read in flight is refused (status $rc)" \
		both [ $rc -eq 1 ] -- grep -q 'still in use' "$T/busy-u.log"
	check "the mount stays" mountpoint -q "$T/mnt/busy"
	rm -f "$T/stalled/.stall"
	wait $reader
	check "the read in flight completes right" cmp "$T/busy.out" "$SRC/big"
	check "then -u works" emount -u "$T/mnt/busy"
fi

# ---- prefetch ----
if [ $fanotify = 1 ]; then
	total=$(stat -c %s "$BLOBS/img.blob")
	lazy_mount pre "$IMG" --prefetch
	check "--prefetch: said so" grep -q 'prefetching everything' "$T/pre.mount.log"
	check "--prefetch fills the whole blob without a reader" \
		wait_for bash -c "[ \"\$($EMOUNT --state-dir '$T/state' --list | awk -v m='$T/mnt/pre' '\$1 == m { split(\$4, a, \"/\"); print a[1] }')\" = $total ]"
	check "... then its mark goes and the window is the kernel's, no read needed" \
		wait_for both grep -q 'complete (.*): mark removed' "$T/cache/pre/erofs-fetchd.log" -- \
		bash -c "[ \"\$($PY '$LIB/erofs_mount.py' readahead '$T/mnt/pre')\" = '$(kernel_ra)' ]"
	ev0=$(grep -c 'fanotify (SIGUSR1' "$T/cache/pre/erofs-fetchd.log")
	cat "$T/mnt/pre/big" >/dev/null
	kill -USR1 "$(worker_pid pre)"
	wait_for bash -c "[ \$(grep -c 'fanotify (SIGUSR1' '$T/cache/pre/erofs-fetchd.log') -gt $ev0 ]"
	check "... and reading it raises no event" \
		grep -q 'fanotify (SIGUSR1): events 0 ' "$T/cache/pre/erofs-fetchd.log"
	emount -u "$T/mnt/pre" >/dev/null 2>&1
	# the window to put back is in the image's registration: a worker
	# restarted by its supervisor still puts it back
	lazy_mount rs "$IMG"
	w0=$(worker_pid rs)
	check "the image's registration holds the window to put back" \
		grep -qx "readahead [0-9a-f-]* erofs-[0-9]* $(($(kernel_ra) << 10))" \
		"$T/cache/rs/.erofs-fetchd/images/$(printf %s "$T/mnt/rs" | sha256sum | cut -d' ' -f1)"
	kill -KILL "$w0"
	wait_for bash -c "[ -n \"\$(sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' '$T/cache/rs/erofs-fetchd.log' | tail -1 | grep -vx '$w0')\" ]"
	check "after a worker crash the tree reads right" \
		$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/rs"
	check "... and its successor puts the kernel's window back" \
		wait_for bash -c "[ \"\$($PY '$LIB/erofs_mount.py' readahead '$T/mnt/rs')\" = '$(kernel_ra)' ]"
	emount -u "$T/mnt/rs" >/dev/null 2>&1
	echo big >"$T/plist"
	lazy_mount plist "$IMG" --prefetch-list "$T/plist"
	check "--prefetch-list: said so" grep -q 'prefetching 1 listed' "$T/plist.mount.log"
	check "--prefetch-list fills the listed file's chunks" \
		wait_for bash -c "[ \"\$($EMOUNT --state-dir '$T/state' --list | awk -v m='$T/mnt/plist' '\$1 == m { split(\$4, a, \"/\"); print a[1] }')\" -ge $((24 << 20)) ]"
	check "... and the file reads right" cmp "$T/mnt/plist/big" "$SRC/big"
	emount -u "$T/mnt/plist" >/dev/null 2>&1
fi

# ---- a bootstrap as IMAGE, blobs named by their tag ----
if [ $fanotify = 1 ]; then
	mkdir -p "$T/bytag"
	cp "$BLOBS/img.blob" "$T/bytag/$TAG"
	check "a bootstrap as IMAGE" lazy_mount boot "$BLOBS/img.boot" --source "$T/bytag"
	check "its big file reads right" cmp "$T/mnt/boot/big" "$SRC/big"
	emount -u "$T/mnt/boot" >/dev/null 2>&1
fi

# ---- the last resort: fetch everything, plain file-backed mount ----
check "--backend full" lazy_mount full "$IMG" --backend full
check "full: says so" grep -q 'backend full' "$T/full.mount.log"
$PY "$LIB/treecmp.py" "$SRC" "$T/mnt/full" >"$T/cmp-full.log" 2>&1
check "full: tree equals the source ($(tail -n1 "$T/cmp-full.log"))" [ $? -eq 0 ]
check "full: -u" emount -u "$T/mnt/full"
check "--kernel-readahead 512K" \
	lazy_mount ra "$IMG" --backend full --kernel-readahead 512K
check "... is the mount's read_ahead_kb" \
	[ "$($PY "$LIB/erofs_mount.py" readahead "$T/mnt/ra")" = 512 ]
check "... -u" emount -u "$T/mnt/ra"
emount --kernel-readahead 2G "$IMG" "$T/mnt/ra" >"$T/ra-bad.log" 2>&1
check "--kernel-readahead 2G is refused, naming the option" \
	both [ $? = 2 ] -- grep -q -- '--kernel-readahead 2G' "$T/ra-bad.log"

# ---- bad input ----
mkdir -p "$T/mnt/bad"
printf '{"format": "nope"}' >"$T/bad.json"
emount --cache-dir "$T/cache/bad" "$T/bad.json" "$T/mnt/bad" >"$T/bad.log" 2>&1
check "a bad manifest is refused" both [ $? -eq 1 ] -- grep -q 'bad.json' "$T/bad.log"
cp "$IMG" "$T/corrupt/" 2>/dev/null || { mkdir -p "$T/corrupt"; cp "$IMG" "$BLOBS/img.blob" "$T/corrupt/"; }
cp "$BLOBS/img.boot" "$T/corrupt/img.boot"
printf 'X' | dd of="$T/corrupt/img.boot" bs=1 seek=2000 conv=notrunc status=none
emount --cache-dir "$T/cache/bad" --backend full "$T/corrupt/img.json" "$T/mnt/bad" >"$T/bad2.log" 2>&1
check "a bootstrap with a wrong SHA-256 is refused" \
	both [ $? -eq 1 ] -- grep -q 'SHA-256' "$T/bad2.log"
check "nothing mounted after bad input" bash -c "! mountpoint -q '$T/mnt/bad'"
check "-u of something erofs-mount did not mount is refused" \
	bash -c "! $EMOUNT --state-dir '$T/state' -u '$T/mnt/bad' 2>/dev/null"

echo "mount: $fails failed"
[ "$fails" -eq 0 ]
