#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies, builds, and runs every test: unit tests (also under
# AddressSanitizer + UndefinedBehaviorSanitizer), integration tests against
# the host kernel and real tools, the fuzz smoke run, and the kernel
# end-to-end suite under qemu (kernel lines 6.12 and 6.1, see
# tests/kernel/run.sh).  The last line is "N passed, N failed, N skipped";
# a check that reports "ok - NAME # SKIP reason" counts as skipped, not
# passed.
#
#   tests/run-all.sh [--no-kernel] [--only PATTERN]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD=$top/build
export BUILD_SAN=$top/build-san
log_dir=${TEST_LOG_DIR:-$top/build/test-logs}
run_kernel=1
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--no-kernel) run_kernel=0 ;;
	--only) only=$2; shift ;;
	*) echo "usage: $0 [--no-kernel] [--only PATTERN]" >&2; exit 2 ;;
	esac
	shift
done

passed=0
failed=0
skipped=0
failures=()

note_fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAILED: $1"
}

# runs a command whose output follows the "ok - x" / "not ok - x" protocol
run_script() {
	local name=$1
	shift
	local out=$log_dir/$(echo "$name" | tr '/ ' '__').log
	local rc p f s
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	grep -E '^(not )?ok - ' "$out" | sed 's/^/   /'
	p=$(grep '^ok - ' "$out" | grep -v -c ' # SKIP')
	s=$(grep -c '^ok - .* # SKIP' "$out")
	f=$(grep -c '^not ok - ' "$out")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		failures+=("$name ($f checks)")
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		note_fail "$name exited $rc without a failing check (log: $out)"
		tail -20 "$out" | sed 's/^/   | /'
	elif [ "$rc" -ne 0 ]; then
		tail -5 "$out" | sed 's/^/   | /'
	fi
}

# runs "make check" in a build directory and counts the automake results
run_unit() {
	local name=$1 dir=$2
	local out=$log_dir/$name.log p f
	echo "== $name"
	make -C "$dir" -s -j"$(nproc)" check >"$out" 2>&1
	grep -E '^(PASS|SKIP|FAIL|ERROR|XPASS):' "$out" | sed 's/^/   /'
	p=$(grep -c '^PASS:' "$out")
	f=$(grep -c -E '^(FAIL|ERROR|XPASS):' "$out")
	skipped=$((skipped + $(grep -c '^SKIP:' "$out")))
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && note_fail "$name ran nothing"
		for l in "$dir"/tests/unit/*.log; do
			grep -q -E '^(FAIL|ERROR)' "${l%.log}.trs" 2>/dev/null &&
				tail -30 "$l" | sed 's/^/   | /'
		done
		[ "$f" -gt 0 ] && failures+=("$name ($f)")
	fi
}

selected() {
	[ -z "$only" ] || [[ "$1" == *$only* ]]
}

echo "== installing dependencies"
scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
echo "== building"
if ! scripts/build.sh "$BUILD"; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$log_dir"

selected unit && run_unit unit "$BUILD"
if selected sanitizers; then
	echo "== building with ASan+UBSan"
	if scripts/build.sh "$BUILD_SAN" --enable-sanitizers; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			run_unit unit-sanitizers "$BUILD_SAN"
	else
		note_fail "sanitizer build"
	fi
fi

for t in tests/integration/*.sh; do
	[ -x "$t" ] || continue
	selected "$t" && run_script "$t" "$t"
done
if [ -x tests/fuzz/run-fuzz.sh ] && selected fuzz; then
	run_script "fuzz smoke" tests/fuzz/run-fuzz.sh "${FUZZ_SECONDS:-8}"
fi
if [ "$run_kernel" = 1 ] && [ -x tests/kernel/run.sh ] && selected kernel; then
	run_script "kernel suite" tests/kernel/run.sh
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
