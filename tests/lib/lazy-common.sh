# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the lazy-mount integration scripts (fanotify.sh, mount.sh,
# mount-oci.sh): a work dir with an ext4 cache filesystem on a loop device
# (the fanotify backend refuses tmpfs), a generated source tree with one
# large file, its image (bootstrap + one blob + manifest), nginx on
# 127.0.0.1 with a config of its own, and helpers around erofs-mount.
# Source it after tap.sh (whose wait_for and both it uses); it sets T, SRC,
# IMG (the manifest), BLOBS, MNT.

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
MKFS=$BUILD/mkfs/mkfs.erofs
FETCHD=$BUILD/fetchd/erofs-fetchd
EMOUNT=$BUILD/mount/erofs-mount

T=$(mktemp -d "${TMPDIR:-/tmp}/lazy.XXXXXX")
LAZY_MOUNTS=()
LAZY_PIDS=()
lazy_cleanup() {
	for m in "${LAZY_MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	for p in "${LAZY_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	stop_nginx 2>/dev/null
	# daemons started for our caches
	for p in $(pgrep -f "erofs-fetchd.*--cache-dir $T/" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	sleep 0.2
	umount "$T/cache" 2>/dev/null || umount -l "$T/cache" 2>/dev/null
	umount "$T/tmpfs" 2>/dev/null
	rm -rf "$T"
}
trap lazy_cleanup EXIT

lazy_need() {
	for x in "$MKFS" "$FETCHD" "$EMOUNT"; do
		if [ ! -x "$x" ]; then
			nok "built: $x" "missing"
			exit 1
		fi
	done
	if [ "$(id -u)" != 0 ]; then
		skip "lazy mounts" "needs root"
		exit 0
	fi
}

# the running kernel has fanotify pre-content hooks (Linux 6.14+)
lazy_has_fanotify() {
	grep -q ' 6\.1[4-9]\.\| 6\.[2-9][0-9]\.\| [7-9]\.' <(echo " $(uname -r)")
}

# lazy_nginx ROOT: nginx serving ROOT on 127.0.0.1:$NGINX_PORT (set here,
# random), with its config, pid and logs in $T/nginx; 1 if it did not start
lazy_nginx() {
	local bin
	bin=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$T/nginx"
	NGINX_PORT=$((20000 + RANDOM % 20000))
	cat >"$T/nginx/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx;
	proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx;
	uwsgi_temp_path $T/nginx;
	scgi_temp_path $T/nginx;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $1;
	}
}
CONF
	"$bin" -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/start.log" &&
		wait_for test -s "$T/nginx/nginx.pid"
}
stop_nginx() {
	[ -s "$T/nginx/nginx.pid" ] && kill "$(cat "$T/nginx/nginx.pid")" &&
		rm -f "$T/nginx/nginx.pid"
}

# daemon_of NAME: a daemon serving cache $T/cache/NAME runs (erofs-mount
# starts it with "--cache-dir DIR --control ...")
daemon_of() { pgrep -f "erofs-fetchd.*--cache-dir $T/cache/$1 " >/dev/null; }
no_daemon() { ! daemon_of "$1"; }

# the cache filesystem (ext4 on a loop device) on $T/cache
lazy_cache() {
	lazy_need
	truncate -s 768M "$T/cache.ext4"
	mkfs.ext4 -q -F -b 4096 "$T/cache.ext4" || exit 1
	mkdir -p "$T/cache" "$T/state" "$T/blobs"
	mount -o loop "$T/cache.ext4" "$T/cache" || {
		nok "loop-mounted ext4 cache" "mount failed"
		exit 1
	}
}

# the cache filesystem and the image
lazy_setup() {
	lazy_cache
	SRC=$T/src
	$PY "$LIB/gentree.py" --seed 7 --kind full --bigdir 64 "$SRC" >/dev/null || exit 1
	head -c $((24 << 20)) /dev/urandom >"$SRC/big"
	BLOBS=$T/blobs
	IMG=$BLOBS/img.json
	"$MKFS" --quiet --chunksize=65536 --blobdev="$BLOBS/img.blob" \
		--manifest="$IMG" "$BLOBS/img.boot" "$SRC" || exit 1
	TAG=$(sed -n 's/.*"tag": "\([0-9a-f]*\)".*/\1/p' "$IMG" | head -1)
}

# emount ARGS...: erofs-mount with our daemon and state dir
emount() {
	"$EMOUNT" --fetchd "$FETCHD" --state-dir "$T/state" "$@"
}
# lazy_mount NAME IMAGE [ARGS...]: mount on $T/mnt/NAME with cache
# $T/cache/NAME (one daemon per cache dir)
lazy_mount() {
	local name=$1 image=$2
	shift 2
	mkdir -p "$T/mnt/$name" "$T/cache/$name"
	LAZY_MOUNTS+=("$T/mnt/$name")
	emount --cache-dir "$T/cache/$name" "$@" "$image" "$T/mnt/$name" \
		>"$T/$name.mount.log" 2>&1
}
# the supervised daemon's current worker for cache NAME
worker_pid() {
	sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' \
		"$T/cache/$1/erofs-fetchd.log" | tail -1
}
# bytes the worker of cache NAME fetched from its sources (SIGUSR1)
fetched_bytes() {
	local log=$T/cache/$1/erofs-fetchd.log n
	n=$(grep -c 'stats (SIGUSR1' "$log")
	kill -USR1 "$(worker_pid "$1")"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'stats (SIGUSR1' "$log")" -gt "$n" ] && break
		sleep 0.1
	done
	grep 'stats (SIGUSR1' "$log" | tail -1 |
		sed -n 's/.* fetched \([0-9]*\) B .*/\1/p'
}
# present bytes of mount NAME as --list reports them
present_bytes() {
	emount --list | awk -v m="$T/mnt/$1" '$1 == m { split($4, a, "/"); print a[1] }'
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# the kernel's own read-ahead window (KiB) of a new file-backed EROFS
# mount: that of a plain mount of a tiny image
kernel_ra() {
	mkdir -p "$T/kra.src" "$T/kra.mnt"
	[ -s "$T/kra.img" ] || "$MKFS" --quiet "$T/kra.img" "$T/kra.src" >/dev/null
	$PY "$LIB/erofs_mount.py" mount "$T/kra.img" "$T/kra.mnt" >/dev/null &&
		$PY "$LIB/erofs_mount.py" readahead "$T/kra.mnt"
	umount "$T/kra.mnt" 2>/dev/null
}
# start stallhttp.py on DIR; sets STALL_PORT
start_stall() {
	$PY "$LIB/stallhttp.py" "$1" "$T/stall.port" &
	LAZY_PIDS+=($!)
	wait_for test -s "$T/stall.port"
	STALL_PORT=$(cat "$T/stall.port")
}
