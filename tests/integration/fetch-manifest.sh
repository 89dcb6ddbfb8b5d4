#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile manifests and sources for erofs-fetchd, through --fetch-test with
# a blob directory: sizes near 2^64 (and the 26-digit numbers json-c clamps)
# and 2^62 are refused instead of serving zeros, trailing data after the
# JSON is refused, a FIFO as the manifest, in the source directory or named
# by the manifest is refused without blocking, 65,535 blobs load and
# 10^6 are refused with bounded memory.
#   BUILD=/path/to/build tests/integration/fetch-manifest.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
FD=$BUILD/fetchd/erofs-fetchd

T=$(mktemp -d "${TMPDIR:-/tmp}/fetch-manifest.XXXXXX")
trap 'rm -rf "$T"' EXIT

if [ ! -x "$FD" ]; then
	nok "erofs-fetchd built" "$FD missing"
	exit 1
fi
F=("$FD" -q)
mkdir -p "$T/src"
head -c 20000 /dev/urandom >"$T/src/blob"
SHA=$(sha256sum "$T/src/blob" | cut -d' ' -f1)

# manifest BLOBSIZE [TAIL]
manifest() {
	printf '{"format":"erofs-ondemand-manifest","version":1,'
	printf '"block_size":4096,"chunk_size":0,'
	printf '"bootstrap":{"path":"boot","size":4096,"sha256":"%s"},' "$SHA"
	printf '"blobs":[{"tag":"t1","size":%s,"sha256":"%s","path":"%s"}]}' \
		"$1" "$SHA" "${3:-blob}"
	printf '%s' "${2:-}"
}

# refused NAME MANIFEST-FILE [PATTERN] [ARGS...]: non-zero, no output,
# an error message (matching PATTERN)
refused() {
	local name=$1 m=$2 pat=${3:-.} out=$T/out.$RANDOM rc
	shift 3
	timeout 60 "${F[@]}" --fetch-test t1 --manifest "$m" --source "$T/src" \
		--out "$out" "$@" >"$T/log" 2>&1
	rc=$?
	check "$name: refused (exit $rc), nothing written" \
		[ $rc -ne 0 -a $rc -ne 124 -a ! -e "$out" ]
	check "$name: the error says why" grep -qi -- "$pat" "$T/log"
}

manifest 20000 >"$T/good.json"
"${F[@]}" --fetch-test t1 --manifest "$T/good.json" --source "$T/src" \
	--out "$T/good.out" >"$T/log" 2>&1
check "a good manifest serves the blob" cmp -s "$T/src/blob" "$T/good.out"

# sizes the device table cannot hold: were page-rounded to 0 and served
# as 8192 zero bytes, or zeros until the disk was full
for size in 18446744073709551615 12345678901234567890123456 \
	4611686018427387904; do
	manifest $size >"$T/m.json"
	refused "size $size" "$T/m.json" "larger than" --offset 4096 \
		--length 4096
	refused "size $size, whole object" "$T/m.json" "larger than"
done

manifest 20000 ' garbage' >"$T/m.json"
refused "trailing garbage after the JSON" "$T/m.json" "trailing data"
manifest 20000 '{}' >"$T/m.json"
refused "a second JSON object" "$T/m.json" "trailing data"
manifest 20000 $'\n\n' >"$T/m.json"
"${F[@]}" --fetch-test t1 --manifest "$T/m.json" --source "$T/src" \
	--out "$T/ws.out" >"$T/log" 2>&1
check "trailing whitespace is fine" cmp -s "$T/src/blob" "$T/ws.out"

# FIFOs: open(2) would block; each is refused naming it
mkfifo "$T/fifo.json" "$T/src/fifo" "$T/src/t9"
refused "a FIFO as the manifest" "$T/fifo.json" "not a regular file"
manifest 20000 "" fifo >"$T/m.json"
refused "a FIFO named by the manifest" "$T/m.json" "not a regular file"
timeout 60 "${F[@]}" --fetch-test t9 --source "$T/src" --out "$T/f.out" \
	>"$T/log" 2>&1
rc=$?
check "a FIFO in the source directory: refused (exit $rc)" \
	[ $rc -ne 0 -a $rc -ne 124 -a ! -e "$T/f.out" ]
check "a FIFO in the source directory: named in the error" \
	grep -q "t9: not a regular file" "$T/log"

# the most blobs a device table holds load; one more is refused
blobs() {
	python3 - "$1" "$SHA" <<'PY'
import sys
n, sha = int(sys.argv[1]), sys.argv[2]
b = ','.join('{"tag":"t%d","size":20000,"sha256":"%s","path":"blob"}'
             % (i + 1, sha) for i in range(n))
print('{"format":"erofs-ondemand-manifest","version":1,"block_size":4096,'
      '"chunk_size":0,"bootstrap":{"path":"boot","size":4096,"sha256":"%s"},'
      '"blobs":[%s]}' % (sha, b))
PY
}
blobs 65535 >"$T/many.json"
"${F[@]}" --fetch-test t65535 --manifest "$T/many.json" --source "$T/src" \
	--out "$T/many.out" >"$T/log" 2>&1
check "65,535 blobs load and the last one is served" \
	cmp -s "$T/src/blob" "$T/many.out"
blobs 65536 >"$T/many.json"
refused "65,536 blobs" "$T/many.json" "at most 65535"
# 10^6 blob objects: refused before json-c builds them
python3 -c 'import sys; sys.stdout.write("{\"blobs\":[" + ",".join(["{}"] * 1000000) + "]}")' \
	>"$T/million.json"
rss=$T/rss
if [ -x /usr/bin/time ] && ! ldd "$FD" 2>/dev/null | grep -q libasan; then
	/usr/bin/time -o "$rss" -f %M "${F[@]}" --fetch-test t1 \
		--manifest "$T/million.json" --source "$T/src" \
		--out "$T/mil.out" >"$T/log" 2>&1
	rc=$?
	kb=$(tail -1 "$rss")
	check "10^6 blobs refused (exit $rc)" \
		[ $rc -ne 0 -a ! -e "$T/mil.out" ]
	check "10^6 blobs: the error names the limit" \
		grep -q "at most 65535 blobs" "$T/log"
	# json-c took 1.5 GB for these before they were counted
	check "10^6 blobs refused within 64 MiB of memory (${kb} KiB)" \
		[ "$kb" -lt 65536 ]
else
	refused "10^6 blobs" "$T/million.json" "at most 65535 blobs"
fi

echo "fetch-manifest: $fails failed"
[ "$fails" -eq 0 ]
