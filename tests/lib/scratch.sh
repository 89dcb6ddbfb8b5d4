# SPDX-License-Identifier: GPL-2.0-or-later
# The setup the integration scripts share: root only, the tools they
# need, and a scratch directory removed on exit together with whatever
# is still mounted under it.  Source it after tap.sh or mkfs-common.sh.

# need_root: exits with the plan line of a skipped script unless root
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP must run as root"
		exit 0
	fi
}

# need_exe NAME PATH: exits failing the check NAME unless PATH runs
need_exe() {
	if [ ! -x "$2" ]; then
		nok "$1 exists" "$2 not found (set BUILD)"
		exit 1
	fi
}

# need_cmds CMD...: exits failing a check unless every CMD is installed
need_cmds() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			nok "$t is installed" "not found (scripts/install-deps.sh)"
			exit 1
		fi
	done
}

# umount_under DIR: lazily unmounts everything mounted under DIR, deepest
# first
umount_under() {
	findmnt -rn -o TARGET | grep -F "$1" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}

# scratch NAME: SCRATCH becomes a new directory in $TMPDIR, unmounted and
# removed when the script exits (kept, and named, when KEEP is set); INT
# and TERM end the script through that
scratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	trap scratch_cleanup EXIT
	trap 'exit 130' INT TERM
}
scratch_cleanup() {
	if [ -n "${KEEP:-}" ]; then
		echo "# kept $SCRATCH"
		return
	fi
	umount_under "$SCRATCH"
	rm -rf "$SCRATCH"
}

# oneline [N]: stdin's first N bytes (300) on one line, for a reason
oneline() { head -c "${1:-300}" | tr '\n' ' '; }
