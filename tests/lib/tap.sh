# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the integration scripts: the "ok - name" / "not ok - name: why"
# protocol tests/run-all.sh counts, and the default build directory.
# Source it; it sets BUILD and fails.

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
