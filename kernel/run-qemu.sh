#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Boot a kernel + initramfs under qemu (TCG) and report the guest's results.
#
#   kernel/run-qemu.sh -k BZIMAGE -i INITRD -c CACHE.img [options]
#
#   -k FILE     kernel (bzImage)
#   -i FILE     initramfs (kernel/mkinitramfs.sh)
#   -c FILE     ext4 cache disk, the guest's /dev/vda.  Created (mkfs.ext4
#               -b 4096) when missing; kept as it is otherwise, so the cache
#               survives across boots.  Use -n to start from an empty one.
#   -n          (re)create the cache disk even if it exists
#   -S SIZE     size of a new cache disk (default 256M)
#   -d FILE     second disk (raw, read-only), the guest's /dev/vdb
#   -l FILE     serial console log (default: CACHE.img.console.log)
#   -t SECONDS  kill qemu after this long (default 300)
#   -a ARGS     extra kernel command line arguments
#   -m SIZE     guest memory (default 512M)
#   -v          copy the console to stderr while the guest runs
#
# stdout gets the guest's result lines ("ok - ..." / "not ok - ..."), with
# "not ok" lines added for a missing GUEST-DONE marker (timeout, panic).
# Exit status: 0 all ok, 1 a check failed, 2 the guest did not finish.
# /dev/kvm is not used: on these machines it cannot run guests, so TCG only.

set -euo pipefail

die() { echo "kernel/run-qemu.sh: error: $*" >&2; exit 2; }

kernel='' initrd='' cache='' disk2='' log='' append='' verbose=0 fresh=0
timeout_s=300 mem=512M size=256M
while getopts "k:i:c:nS:d:l:t:a:m:vh" opt; do
	case "$opt" in
	k) kernel=$OPTARG ;;
	i) initrd=$OPTARG ;;
	c) cache=$OPTARG ;;
	n) fresh=1 ;;
	S) size=$OPTARG ;;
	d) disk2=$OPTARG ;;
	l) log=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	a) append=$OPTARG ;;
	m) mem=$OPTARG ;;
	v) verbose=1 ;;
	h) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
[ -r "$kernel" ] || die "kernel '$kernel' not found (-k)"
[ -r "$initrd" ] || die "initramfs '$initrd' not found (-i)"
[ -n "$cache" ] || die "no cache disk given (-c)"
[ -z "$disk2" ] || [ -r "$disk2" ] || die "disk '$disk2' not found (-d)"
log=${log:-$cache.console.log}
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found (apt-get install qemu-system-x86)"

if [ "$fresh" = 1 ] || [ ! -s "$cache" ]; then
	rm -f "$cache"
	truncate -s "$size" "$cache"
	# 4 KiB blocks: cachefiles needs block size <= PAGE_SIZE and O_DIRECT
	mkfs.ext4 -q -F -b 4096 -L erofs-cache "$cache" ||
		die "mkfs.ext4 $cache failed"
fi

args=(-machine q35,accel=tcg -smp 1 -m "$mem" -nodefaults -no-reboot
	-display none -monitor none -serial "file:$log"
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 loglevel=4 $append"
	-drive "file=$cache,if=virtio,format=raw,cache=unsafe"
	-device virtio-rng-pci)
if [ -n "$disk2" ]; then
	args+=(-drive "file=$disk2,if=virtio,format=raw,readonly=on")
fi

: > "$log"
tailpid=
if [ "$verbose" = 1 ]; then
	tail -n +1 -f "$log" >&2 &
	tailpid=$!
fi
start=$(date +%s)
set +e
timeout -k 5 "$timeout_s" "$qemu" "${args[@]}" </dev/null
qrc=$?
set -e
[ -z "$tailpid" ] || { sleep 0.2; kill "$tailpid" 2>/dev/null || true; }
elapsed=$(( $(date +%s) - start ))

# Kernel messages can share a line with guest output: match anywhere.
tr -d '\r' < "$log" | grep -o -E '(not )?ok - .*' || true
done_line=$(tr -d '\r' < "$log" | grep -o -E 'GUEST-DONE [0-9]+' | tail -n 1 || true)

if [ -z "$done_line" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		why="timed out after ${timeout_s}s"
	else
		why="qemu exited with $qrc"
	fi
	echo "not ok - guest finished: $why, no GUEST-DONE marker (log: $log)"
	echo "--- last lines of $log ---" >&2
	tr -d '\r' < "$log" | tail -n 25 >&2
	exit 2
fi
echo "kernel/run-qemu.sh: guest finished in ${elapsed}s ($done_line)" >&2
if [ "${done_line#GUEST-DONE }" != 0 ] ||
   tr -d '\r' < "$log" | grep -q -E 'not ok - '; then
	exit 1
fi
exit 0
