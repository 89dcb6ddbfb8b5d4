# SPDX-License-Identifier: GPL-2.0-or-later
# erofs-utils 1.9.3, the peer the integration scripts cross-check images
# with (never linked).  Source it after tap.sh or mkfs-common.sh.
#
# peer_find sets PEER_FSCK, PEER_MKFS and PEER_DUMP (the tools) and
# returns 0, or leaves them empty, puts the reason in PEER_WHY and returns
# 1.  The peer is built by the build-erofs-utils.sh script, which prints
# its directory: $PEER_BUILD, else shared/peers/ beside the clone (next
# to the tree or one level up, as with worktrees).
#
# peer_missing NAME prints the line for a check that needs the peer when
# it is missing: a skip with the reason, or a failure when CI or
# PEER_REQUIRED is set (CI always has the peer, so its checks must run).
PEER_FSCK=
PEER_MKFS=
PEER_DUMP=
PEER_WHY="not looked for (peer_find)"

peer_find() {
	local top s d
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	PEER_FSCK= PEER_MKFS= PEER_DUMP=
	PEER_WHY="no shared/peers/build-erofs-utils.sh beside the tree (set PEER_BUILD)"
	for s in "${PEER_BUILD:-}" "$top/../shared/peers/build-erofs-utils.sh" \
		"$top/../../shared/peers/build-erofs-utils.sh"; do
		[ -n "$s" ] && [ -x "$s" ] || continue
		if d=$("$s" 2>/dev/null | tail -n 1) &&
			[ -x "$d/fsck/fsck.erofs" ]; then
			PEER_FSCK=$d/fsck/fsck.erofs
			PEER_MKFS=$d/mkfs/mkfs.erofs
			PEER_DUMP=$d/dump/dump.erofs
			PEER_WHY=
			return 0
		fi
		PEER_WHY="$s did not build erofs-utils 1.9.3"
		return 1
	done
	return 1
}

peer_missing() {
	if [ -n "${CI:-}${PEER_REQUIRED:-}" ]; then
		nok "$1" "erofs-utils 1.9.3 is required here: $PEER_WHY"
	else
		skip "$1" "erofs-utils 1.9.3: $PEER_WHY"
	fi
}
