#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the bootstrap-parser fuzzer with clang (libFuzzer + ASan + UBSan)
# and runs it for a bounded time over the seed corpus in the tree.
#   tests/fuzz/run-fuzz.sh [SECONDS]     (default 30)
# New inputs go to a scratch corpus; a crash leaves its input in
# $FUZZ_OUT (default: the scratch dir, printed) and exits non-zero.
# Seed corpus (corpus/reader/): bootstraps made by erofs-utils 1.5
# mkfs.erofs -T0: a plain tree (inline files, symlink, nested and multi-block
# directories, an xattr), a --chunksize --blobdev image (empty device tag),
# and the same with a hex tag written in and the checksum recomputed.
set -eu

secs=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${FUZZ_CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-reader.XXXXXX")
out=${FUZZ_OUT:-$work}
keep=0
cleanup() {
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

command -v "$CC" >/dev/null || { echo "run-fuzz: $CC not found" >&2; exit 2; }

"$CC" -g -O1 -std=gnu11 -D_GNU_SOURCE -I"$top/include" -I"$top/lib" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(pkg-config --cflags json-c libcrypto) \
	"$here/fuzz_reader.c" "$top/lib/reader.c" "$top/lib/cookie.c" \
	"$top/lib/ondisk.c" "$top/lib/log.c" "$top/lib/util.c" \
	$(pkg-config --libs json-c libcrypto) -o "$work/fuzz_reader"

mkdir -p "$work/corpus" "$out"
set +e
"$work/fuzz_reader" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$out/" "$work/corpus" "$here/corpus/reader"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	keep=1
	echo "run-fuzz: fuzzer failed (exit $rc); artifacts in $out" >&2
	echo "not ok - fuzz reader: crash or sanitizer report, artifacts in $out"
	exit 1
fi
echo "run-fuzz: no crash in ${secs}s"
echo "ok - fuzz reader: ${secs}s under ASan+UBSan without a finding"
