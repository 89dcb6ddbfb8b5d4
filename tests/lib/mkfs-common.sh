# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by tests/integration/mkfs.sh and mkfs-tar.sh: the fixed build
# parameters and the check/tally helpers that count results in PASSED and
# FAILED.  Source it.

T=1600000000			# -T timestamp
SDE=1400000000			# SOURCE_DATE_EPOCH: about half the mtimes are newer
UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0

FAILED=0
PASSED=0

ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
# as tap.sh's, for the helpers shared with the other scripts
nok() { notok "$1: $2"; }
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME CONDITION-EXIT-STATUS REASON
check() { if [ "$2" -eq 0 ]; then ok "$1"; else notok "$1: $3"; fi; }
# copy TAP lines from a helper, counting them
tally() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"not ok"*) FAILED=$((FAILED + 1)) ;;
		"ok"*) PASSED=$((PASSED + 1)) ;;
		esac
	done
}
