# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by tests/integration/mkfs.sh and mkfs-tar.sh: the fixed build
# parameters, the check/tally helpers that count results in PASSED and
# FAILED, and the choice of fsck.erofs.  Source it (and peer.sh, then
# call peer_find, before fsck_for).

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
# fsck_for "MKFS ARGS": the fsck.erofs that reads an image built with them:
# $FSCK (Debian's erofs-utils 1.5), which reads only 4096-byte blocks, or
# for -b 512 and -b 1024 erofs-utils 1.9.3's (PEER_FSCK; empty when the
# peer is missing: peer_missing then says whether that skips or fails)
fsck_for() {
	if echo "$1" | grep -Eq -- '-b ?(512|1024)( |$)'; then
		echo "$PEER_FSCK"
	else
		echo "$FSCK"
	fi
}
# fail_verdict NAME RC LOG PATTERN LEFT: the line for a build expected to
# fail: exit status RC non-zero and not a signal's, PATTERN (fixed string)
# in its message LOG, and nothing LEFT behind (what is, for the message)
fail_verdict() {
	local name=$1 rc=$2 log=$3 pat=$4 left=$5
	if [ "$rc" -eq 0 ]; then
		notok "fail: $name: exit 0 (expected an error)"
	elif [ "$rc" -ge 128 ]; then
		notok "fail: $name: killed by signal $((rc - 128))"
	elif ! grep -qF -- "$pat" "$log"; then
		notok "fail: $name: message does not name '$pat': $(head -c 300 "$log" | tr '\n' ' ')"
	elif [ -n "$left" ]; then
		notok "fail: $name: left behind in DEST's directory: $left"
	else
		# an absolute path shows as its last component
		if [ "${pat#/}" != "$pat" ]; then
			pat=${pat%/}
			pat=${pat##*/}
		fi
		ok "fail: $name (exit $rc, message names '$pat', nothing left)"
		echo "#   $(head -n1 "$log")"
	fi
}
