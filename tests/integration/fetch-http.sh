#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test of erofs-fetchd's sources without a kernel: real HTTP
# servers on 127.0.0.1 (busybox httpd, which honours Range, Python's
# http.server, which ignores it and answers 200, and tests/lib/badhttp.py,
# which breaks the protocol in the ways a 206 must not be trusted, claims a
# huge Content-Length and redirects to ftp://) and a blob directory,
# exercised through the fetch core and worker pool by --fetch-test.  Checks
# whole and ranged fetches byte for byte, manifest sizing (no HEAD), source
# fallback order, and clean failures: 404, a body shorter than the manifest
# says, a server that is down, a path escaping the source.
#   BUILD=/path/to/build tests/integration/fetch-http.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
FD=$BUILD/fetchd/erofs-fetchd


T=$(mktemp -d "${TMPDIR:-/tmp}/fetch-http.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$FD" ]; then
	nok "erofs-fetchd built" "$FD missing"
	exit 1
fi

# something listens on 127.0.0.1:$1
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait until it does (bounded)
wait_port() { wait_for listening "$1"; }

# ---- data: a bootstrap-sized and a multi-unit blob, odd sizes ----
mkdir -p "$T/www/blobs" "$T/local"
head -c 1234567 /dev/urandom >"$T/www/blobs/tag1.blob"
head -c 20480 /dev/urandom >"$T/www/boot.img"
head -c 777 /dev/urandom >"$T/www/small"
cp "$T/www/small" "$T/local/small"
head -c 5000 /dev/urandom >"$T/local/onlylocal"
sha() { sha256sum "$1" | cut -d' ' -f1; }

BB_PORT=
for try in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 20000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
	busybox httpd -f -p "127.0.0.1:$port" -h "$T/www" >"$T/bb.log" 2>&1 &
	pid=$!
	if wait_port "$port" && kill -0 "$pid" 2>/dev/null; then
		PIDS+=("$pid")
		BB_PID=$pid
		BB_PORT=$port
		break
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
if [ -z "$BB_PORT" ]; then
	nok "busybox httpd starts" "no port"
	exit 1
fi
URL=http://127.0.0.1:$BB_PORT
ok "busybox httpd serves $T/www on port $BB_PORT"

# the server must honour Range for the 206 path to be tested
exec 3<>"/dev/tcp/127.0.0.1/$BB_PORT"
printf 'GET /small HTTP/1.0\r\nRange: bytes=10-19\r\n\r\n' >&3
status=$(head -1 <&3 | tr -d '\r')
exec 3<&-
check "busybox httpd answers Range with 206 ($status)" \
	grep -q ' 206' <<<"$status"

F=("$FD" --http-retries 1 --connect-timeout 2 --http-timeout 20 -q)

# ---- whole object, sized by HEAD ----
if "${F[@]}" --fetch-test blobs/tag1.blob --source "$URL" \
	--out "$T/o1" --workers 4 --fetch-unit 256k >"$T/o1.log" 2>&1; then
	check "whole blob over HTTP (HEAD size, 4 workers) matches" \
		cmp -s "$T/www/blobs/tag1.blob" "$T/o1"
else
	nok "whole blob over HTTP" "exit $?: $(tail -2 "$T/o1.log")"
fi

# ---- a range that is not page-aligned, crossing fetch units ----
off=$((1048576 - 5)) len=70000
if "${F[@]}" --fetch-test blobs/tag1.blob --source "$URL" --offset "$off" \
	--length "$len" --out "$T/o2" --fetch-unit 64k >"$T/o2.log" 2>&1; then
	cmp -s <(tail -c +$((off + 1)) "$T/www/blobs/tag1.blob" | head -c "$len") \
		<(tail -c +$((off + 1)) "$T/o2" | head -c "$len")
	check "ranged fetch (off $off len $len) matches" [ $? -eq 0 ]
else
	nok "ranged fetch" "exit $?: $(tail -2 "$T/o2.log")"
fi

# ---- manifest: sizes from the manifest, bootstrap by fsid ----
cat >"$T/m.json" <<EOF
{"format":"erofs-ondemand-manifest","version":1,"block_size":4096,
 "chunk_size":65536,
 "bootstrap":{"path":"/somewhere/else/boot.img","size":20480,
   "sha256":"$(sha "$T/www/boot.img")"},
 "blobs":[{"device_id":1,"tag":"tag1","size":1234567,
   "sha256":"$(sha "$T/www/blobs/tag1.blob")","path":"blobs/tag1.blob"}],
 "cookies":{"fsid":"myimage"}}
EOF
if "${F[@]}" --fetch-test myimage --manifest "$T/m.json" --source "$URL" \
	--out "$T/o3" >"$T/o3.log" 2>&1; then
	check "manifest bootstrap (by cookie fsid) matches" \
		cmp -s "$T/www/boot.img" "$T/o3"
else
	nok "manifest bootstrap" "exit $?: $(tail -2 "$T/o3.log")"
fi
if "${F[@]}" --fetch-test tag1 --manifest "$T/m.json" --source "$URL" \
	--out "$T/o4" >"$T/o4.log" 2>&1; then
	check "manifest blob (by tag) matches" \
		cmp -s "$T/www/blobs/tag1.blob" "$T/o4"
else
	nok "manifest blob" "exit $?: $(tail -2 "$T/o4.log")"
fi
# --fsid overrides the manifest's; the old name is then unknown
"${F[@]}" --fetch-test myimage --fsid other --manifest "$T/m.json" \
	--source "$URL" --out "$T/o5" >"$T/o5.log" 2>&1
check "--fsid renames the bootstrap (old name refused)" \
	[ $? -ne 0 -a ! -e "$T/o5" ]
# with a manifest only its objects exist, even if the server has more
"${F[@]}" --fetch-test small --manifest "$T/m.json" --source "$URL" \
	--out "$T/o6" >"$T/o6.log" 2>&1
check "object outside the manifest refused" [ $? -ne 0 -a ! -e "$T/o6" ]

# ---- failures ----
"${F[@]}" --fetch-test nosuch --source "$URL" --out "$T/o7" \
	>"$T/o7.log" 2>&1
rc=$?
check "404 is a clean error (exit $rc)" [ $rc -eq 1 -a ! -e "$T/o7" ]
check "404 error names the object" grep -q nosuch "$T/o7.log"

# manifest says the blob is bigger than what the server has
sed 's/"size":1234567/"size":1300000/' "$T/m.json" >"$T/short.json"
"${F[@]}" --fetch-test tag1 --manifest "$T/short.json" --source "$URL" \
	--out "$T/o8" >"$T/o8.log" 2>&1
rc=$?
check "short body is an error (exit $rc), no output left" \
	[ $rc -eq 1 -a ! -e "$T/o8" ]

"${F[@]}" --fetch-test ../etc/passwd --source "$URL" --out "$T/o9" \
	>"$T/o9.log" 2>&1
check "path escaping the source refused" [ $? -ne 0 -a ! -e "$T/o9" ]

# ---- source order and fallback ----
"${F[@]}" --fetch-test onlylocal --source "$URL" --source "$T/local" \
	--out "$T/o10" >"$T/o10.log" 2>&1
check "falls back to the second source (dir)" \
	cmp -s "$T/local/onlylocal" "$T/o10"
"${F[@]}" --fetch-test tag1 --manifest "$T/m.json" --source "$T/local" \
	--source "$URL" --out "$T/o11" >"$T/o11.log" 2>&1
check "dir source missing the file falls back to HTTP" \
	cmp -s "$T/www/blobs/tag1.blob" "$T/o11"

# ---- a server that ignores Range (HTTP 200 with the whole body) ----
PY_PORT=
for try in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 20000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
	python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" \
		>"$T/py.log" 2>&1 &
	pid=$!
	if wait_port "$port" && kill -0 "$pid" 2>/dev/null; then
		PIDS+=("$pid")
		PY_PORT=$port
		break
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
if [ -n "$PY_PORT" ]; then
	# a 200 to a ranged request is only usable from offset 0; anywhere
	# else it would mean downloading the whole prefix for every unit
	# (quadratic), so it is a clear error
	off=300000 len=100000
	"${F[@]}" --fetch-test blobs/tag1.blob \
		--source "http://127.0.0.1:$PY_PORT/" --offset "$off" \
		--length "$len" --out "$T/o12" --fetch-unit 64k \
		>"$T/o12.log" 2>&1
	rc=$?
	check "server ignoring Range (200): fetch at $off fails (exit $rc)" \
		[ $rc -eq 1 -a ! -e "$T/o12" ]
	check "server ignoring Range: the error says so" \
		grep -q "ignores Range" "$T/o12.log"
	if "${F[@]}" --fetch-test blobs/tag1.blob \
		--source "http://127.0.0.1:$PY_PORT/" --offset 0 \
		--length 5000 --out "$T/o12b" --fetch-unit 64k \
		>"$T/o12b.log" 2>&1; then
		cmp -s <(head -c 5000 "$T/www/blobs/tag1.blob") \
			<(head -c 5000 "$T/o12b")
		check "server ignoring Range: the first unit is served" \
			[ $? -eq 0 ]
	else
		nok "server ignoring Range, first unit" \
			"exit $?: $(tail -2 "$T/o12b.log")"
	fi
else
	nok "python http.server starts" "no port"
fi

# ---- a misbehaving server (tests/lib/badhttp.py) ----
mkdir -p "$T/bad"
python3 "$(dirname "$0")/../lib/badhttp.py" "$T/www" "$T/bad" \
	>"$T/bad.log" 2>&1 &
PIDS+=("$!")
wait_for test -s "$T/bad/port"
BAD=http://127.0.0.1:$(cat "$T/bad/port" 2>/dev/null)
off=300000 len=100000
want() { tail -c +$((off + 1)) "$T/www/blobs/tag1.blob" | head -c "$len"; }
got() { tail -c +$((off + 1)) "$1" | head -c "$len"; }
for mode in good longok; do
	if "${F[@]}" --fetch-test $mode/blobs/tag1.blob --source "$BAD" \
		--offset $off --length $len --fetch-unit 64k \
		--out "$T/b-$mode" >"$T/b-$mode.log" 2>&1; then
		cmp -s <(want) <(got "$T/b-$mode")
		check "206 with an exact Content-Range ($mode) matches" \
			[ $? -eq 0 ]
	else
		nok "206 with an exact Content-Range ($mode)" \
			"exit $?: $(tail -2 "$T/b-$mode.log")"
	fi
done
for mode in norange star unit shift longbad; do
	"${F[@]}" --fetch-test $mode/blobs/tag1.blob --source "$BAD" \
		--offset $off --length $len --fetch-unit 64k \
		--out "$T/b-$mode" >"$T/b-$mode.log" 2>&1
	rc=$?
	check "206 with a bad Content-Range ($mode) fails (exit $rc)" \
		[ $rc -eq 1 -a ! -e "$T/b-$mode" ]
	check "206 with a bad Content-Range ($mode): the error names it" \
		grep -q "Content-Range" "$T/b-$mode.log"
done

# HEAD claims 2^63 - 1 bytes: a clear error, not an allocation failure
"${F[@]}" --fetch-test huge/blobs/tag1.blob --source "$BAD" \
	--out "$T/b-huge" >"$T/b-huge.log" 2>&1
rc=$?
check "HEAD Content-Length 2^63-1 fails (exit $rc), no output" \
	[ $rc -eq 1 -a ! -e "$T/b-huge" ]
check "HEAD Content-Length 2^63-1: the error names the limit" \
	grep -q "larger than the largest object" "$T/b-huge.log"

# a redirect to ftp:// is not followed: nothing connects to the listener
"${F[@]}" --fetch-test toftp/blobs/tag1.blob --source "$BAD" \
	--out "$T/b-ftp" >"$T/b-ftp.out" 2>"$T/b-ftp.log"
rc=$?
check "redirect to ftp:// fails (exit $rc), no output" \
	[ $rc -eq 1 -a ! -e "$T/b-ftp" ]
check "redirect to ftp://: no connection to the ftp port" \
	[ ! -e "$T/bad/ftp-connections" ]
check "redirect to ftp://: nothing on stdout" [ ! -s "$T/b-ftp.out" ]
check "redirect to ftp://: the error says only http(s) is used" \
	grep -q "only http and https" "$T/b-ftp.log"

# ---- server down: bounded retries, clean error ----
kill "$BB_PID" 2>/dev/null
wait "$BB_PID" 2>/dev/null
"${F[@]}" --fetch-test small --source "$URL" --out "$T/o13" \
	>"$T/o13.log" 2>&1
rc=$?
check "server down is a clean error (exit $rc), no output left" \
	[ $rc -eq 1 -a ! -e "$T/o13" ]
"${F[@]}" --fetch-test small --source "$URL" --source "$T/local" \
	--out "$T/o14" >"$T/o14.log" 2>&1
check "server down falls back to the local source" \
	cmp -s "$T/local/small" "$T/o14"

# ---- option validation ----
"$FD" --fetch-test x --source "$T/local" --out "$T/o15" --fetch-unit 3000 \
	>/dev/null 2>&1
check "bad --fetch-unit refused (exit 2)" [ $? -eq 2 ]
"$FD" --source "$T/local" >/dev/null 2>&1
check "missing --cache-dir refused (exit 2)" [ $? -eq 2 ]

echo "fetch-http: $fails failed"
[ "$fails" -eq 0 ]
