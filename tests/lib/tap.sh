# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the integration scripts: the "ok - name" / "not ok - name: why"
# protocol tests/run-all.sh counts, the default build directory, and the
# small predicates checks are built from.  Source it; it sets BUILD and
# fails.

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
fails=0

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; fails=$((fails + 1)); }
# skip NAME REASON: run-all.sh counts it as skipped, not passed
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when the command succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name" "failed: $*"; fi
}
# both CMD1... -- CMD2...: true when both commands succeed (for check, whose
# argument is one command: "check NAME a && b" would leave b unchecked)
both() {
	local a=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	"${a[@]}" && "$@"
}
# wait_for CMD...: until CMD succeeds, WAIT_TRIES (default 100) tries 0.1 s
# apart
wait_for() {
	for _ in $(seq 1 "${WAIT_TRIES:-100}"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
