#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang (libFuzzer +
# ASan + UBSan) and runs each for a bounded time over its seed corpus.
#
#   tests/fuzz/run-fuzz.sh [SECONDS] [NAME...]
#
# SECONDS is the time per target (default 10; CI runs all targets in about a
# minute).  NAME selects targets (fuzz_NAME.c); default: all of them.
#
# A target names the library sources it needs in its own comment line
#   // fuzz-sources: lib/a.c lib/b.c
# (several such lines add up) and may give extra libFuzzer flags in
#   // fuzz-options: -max_len=65536
# Seeds: tests/fuzz/corpus/NAME/ (read only: new inputs go to a scratch
# corpus), dictionary: tests/fuzz/NAME.dict if present.
#
# One line per target: "ok - fuzz NAME (N runs)", or "not ok - fuzz NAME:
# crash, input saved at FILE" (also for leaks, timeouts and out-of-memory),
# or "not ok - fuzz NAME: build failed" with the compiler's output.  The
# exit status is non-zero when any line is "not ok".
#
# Environment: FUZZ_CC (default clang), FUZZ_OUT (where crashing inputs and
# logs are kept; default a directory under $TMPDIR that is kept only when
# something failed), FUZZ_JOBS (parallel compiles, default nproc), FUZZ_BIN
# (keep the built fuzz_NAME binaries in this directory, for longer runs).
# See tests/fuzz/README.md for longer runs and for what to do with a crash.
set -u

secs=${1:-10}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [NAME...]" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc)}
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
out=${FUZZ_OUT:-$work/out}
keep=0
cleanup() {
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

if ! command -v "$CC" >/dev/null; then
	echo "not ok - fuzz: $CC not found (scripts/install-deps.sh installs clang)"
	exit 1
fi

# the words after "// fuzz-KEY:" on every such line of FILE
directive() {
	sed -n "s|^[[:space:]]*//[[:space:]]*fuzz-$1:||p" "$2" | tr -s ' \t' '\n\n' |
		sed '/^$/d'
}

targets=()
if [ $# -gt 0 ]; then
	for n in "$@"; do
		targets+=("$here/fuzz_${n#fuzz_}.c")
	done
else
	for f in "$here"/fuzz_*.c; do
		[ -e "$f" ] && targets+=("$f")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "not ok - fuzz: no tests/fuzz/fuzz_*.c target found"
	exit 1
fi

# what every target links, and the extra packages some name in fuzz-libs
pkgs="json-c libcrypto libcurl libarchive libxxhash liblz4 zlib"
extra_pkgs=$(for t in "${targets[@]}"; do
	[ -f "$t" ] && directive libs "$t"
done | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
if ! pkg_cflags=$(pkg-config --cflags $pkgs $extra_pkgs) ||
	! pkg_libs=$(pkg-config --libs $pkgs); then
	echo "not ok - fuzz: pkg-config cannot find one of: $pkgs $extra_pkgs"
	exit 1
fi
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-std=gnu11 -D_GNU_SOURCE -I$top/include -I$top/lib $pkg_cflags"

bin=${FUZZ_BIN:-$work}
mkdir -p "$work/obj" "$out" "$bin"
failed=0
fail() {
	echo "not ok - fuzz $1: $2"
	failed=$((failed + 1))
	keep=1
}

# Library objects are compiled once (same flags for every target), in
# parallel, before any target runs.
all_srcs=$(for t in "${targets[@]}"; do
	[ -f "$t" ] && directive sources "$t"
done | sort -u)
obj_of() { echo "$work/obj/$(echo "$1" | tr '/' '_').o"; }
compile() {
	# shellcheck disable=SC2086
	"$CC" $cflags -c "$top/$1" -o "$(obj_of "$1")" >"$(obj_of "$1").log" 2>&1
}
running=0
for s in $all_srcs; do
	[ -f "$top/$s" ] || continue
	compile "$s" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

for t in "${targets[@]}"; do
	name=$(basename "$t" .c)
	name=${name#fuzz_}
	if [ ! -f "$t" ]; then
		fail "$name" "no such target $t"
		continue
	fi
	srcs=$(directive sources "$t")
	if [ -z "$srcs" ]; then
		fail "$name" "no '// fuzz-sources:' line in $(basename "$t")"
		continue
	fi
	objs=()
	bad=""
	for s in $srcs; do
		o=$(obj_of "$s")
		if [ ! -f "$top/$s" ]; then
			bad="$s: no such source"
			break
		elif [ ! -f "$o" ]; then
			bad="$s: $(head -c 2000 "$o.log")"
			break
		fi
		objs+=("$o")
	done
	log=$out/$name.log
	libs=$(directive libs "$t" | tr '\n' ' ')
	# shellcheck disable=SC2086
	if [ -z "$bad" ] && [ -n "$libs" ] &&
		! target_libs=$(pkg-config --libs $libs 2>&1); then
		bad="fuzz-libs: $target_libs"
	elif [ -z "$libs" ]; then
		target_libs=
	fi
	if [ -z "$bad" ]; then
		# shellcheck disable=SC2086
		"$CC" $cflags "$t" "${objs[@]}" $pkg_libs $target_libs \
			-o "$bin/fuzz_$name" >"$log" 2>&1 ||
			bad=$(head -c 2000 "$log")
	fi
	if [ -n "$bad" ]; then
		echo "run-fuzz: $name: build failed:" >&2
		echo "$bad" | sed 's/^/    /' >&2
		fail "$name" "build failed"
		continue
	fi

	corpus=$work/corpus-$name
	mkdir -p "$corpus"
	seeds=()
	[ -d "$here/corpus/$name" ] && seeds+=("$here/corpus/$name")
	extra=()
	[ -f "$here/$name.dict" ] && extra+=("-dict=$here/$name.dict")
	for o in $(directive options "$t"); do
		extra+=("$o")
	done
	# libFuzzer: the first corpus directory receives new inputs
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin/fuzz_$name" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "${extra[@]}" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok - fuzz $name ($runs runs)"
		continue
	fi
	saved=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	kind=$(grep -o -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: .*|SUMMARY: .*' "$log" | head -1)
	echo "run-fuzz: $name exited $rc (${kind:-no report}); log $log:" >&2
	grep -E -m 16 'ERROR|runtime error|SUMMARY|#[0-9]+ 0x.* in [^ ]+ /' "$log" | sed 's/^/    /' >&2
	if [ -n "$saved" ]; then
		fail "$name" "crash, input saved at $saved (${kind:-exit $rc})"
	else
		fail "$name" "fuzzer exited $rc without a saved input (log: $log)"
	fi
done

if [ "$keep" = 1 ]; then
	echo "run-fuzz: crashing inputs and logs kept in $out" >&2
	[ -n "${FUZZ_OUT:-}" ] || echo "run-fuzz: (scratch directory $work)" >&2
fi
[ "$failed" -eq 0 ]
