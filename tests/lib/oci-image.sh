# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the container-image integration scripts (convert.sh,
# mount-oci.sh): a 4-layer OCI image made with umoci, and what a stack of
# --no-merge layers under overlayfs may show differently from
# `umoci unpack`.  Source it after tap.sh with W (scratch dir), IMG (the
# layout to create), R (= $W/bundle/rootfs, the unpacked tree) and PY set.
#
# oci_mkimage: layers repacked from a bundle (files, hard links, symlinks,
# a fifo, a device, xattrs, an ACL, setuid and sticky modes; then deleted
# files and directories, a replaced file, changed metadata and a 4 MiB file
# changed in one 64 KiB chunk) and layers added verbatim with
# `umoci raw add-layer` (an opaque directory, a directory replaced by a
# file and the reverse, hard links; a layer of whiteouts and directories
# only), tagged "t"; then `umoci unpack` into $W/bundle.

oci_mkimage() {
	umoci init --layout "$IMG" &&
		umoci new --image "$IMG:t" &&
		umoci unpack --image "$IMG:t" "$W/bundle" >/dev/null || return 1

	# layer 1
	mkdir -p "$R/etc" "$R/usr/bin" "$R/opq/sub" "$R/del/dir" "$R/data" \
		"$R/repl-dir/x" "$R/tmp" "$R/dev" &&
		chmod 1777 "$R/tmp" &&
		echo "config A" >"$R/etc/config" &&
		printf '#!/bin/sh\necho tool\n' >"$R/usr/bin/tool" &&
		chmod 4755 "$R/usr/bin/tool" &&
		ln "$R/usr/bin/tool" "$R/usr/bin/tool-link" &&
		ln -s ../etc/config "$R/usr/config-link" &&
		mkfifo "$R/dev/fifo" && mknod "$R/dev/null" c 1 3 &&
		head -c 4194304 /dev/urandom >"$R/data/big" &&
		cp "$R/data/big" "$R/data/big-copy" &&
		echo a >"$R/opq/a" && echo b >"$R/opq/sub/b" &&
		echo gone >"$R/del/file" && echo gone >"$R/del/dir/x" &&
		echo file >"$R/repl-file" && echo x >"$R/repl-dir/x/y" &&
		: >"$R/empty" &&
		setfattr -n user.comment -v "layer one" "$R/etc/config" &&
		setfattr -n trusted.marker -v 1 "$R/opq" &&
		setfacl -m u:1234:rw "$R/data/big" &&
		chown 1000:1001 "$R/etc/config" "$R/opq/sub" &&
		touch -d @1500000000.123456789 "$R/etc/config" &&
		umoci repack --refresh-bundle --image "$IMG:t" "$W/bundle" || return 1

	# layer 2: deletions, a replaced file, one changed chunk, metadata
	rm "$R/del/file" && rm -r "$R/del/dir" &&
		echo "config B, longer than A" >"$R/etc/config2" &&
		mv "$R/etc/config2" "$R/etc/config" &&
		printf '\125' | dd of="$R/data/big" bs=1 seek=2000000 \
			conv=notrunc status=none &&
		chmod 0750 "$R/etc" && chown 7:8 "$R/usr" &&
		setfattr -n user.comment -v "layer two" "$R/opq/a" &&
		umoci repack --refresh-bundle --image "$IMG:t" "$W/bundle" || return 1

	# layer 3, verbatim: opaque directory, replacements, hard links
	$PY - "$W/l3.tar" "$W/l4.tar" <<'EOF' || return 1
import io, sys, tarfile

def add(t, name, kind='f', data=b'', mode=0o644, **kw):
    i = tarfile.TarInfo(name)
    i.mode = mode
    i.mtime = kw.get('mtime', 1600000000)
    i.uid = kw.get('uid', 0)
    i.gid = kw.get('gid', 0)
    if kind == 'd':
        i.type = tarfile.DIRTYPE
        i.mode = mode if mode != 0o644 else 0o755
        t.addfile(i)
    elif kind == 'l':
        i.type = tarfile.LNKTYPE
        i.linkname = kw['link']
        t.addfile(i)
    else:
        i.size = len(data)
        if 'xattrs' in kw:
            i.pax_headers = {'SCHILY.xattr.' + k: v
                             for k, v in kw['xattrs'].items()}
        t.addfile(i, io.BytesIO(data))

with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'opq', 'd', mode=0o711, mtime=1600000001)
    add(t, 'opq/.wh..wh..opq')
    add(t, 'opq/new', data=b'after the opaque whiteout\n')
    add(t, 'repl-dir', data=b'a file where a directory was\n')
    add(t, '.wh.repl-file')
    add(t, 'repl-file', 'd', mtime=1600000002)
    add(t, 'repl-file/inside', data=b'inside\n', xattrs={'user.k': 'v'})
    add(t, 'repl-file/inside-link', 'l', link='repl-file/inside')
    add(t, 'data/small', data=b'small\n' * 100, uid=33, gid=33)
    add(t, 'data/small-link', 'l', link='data/small')
with tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as t:
    # whiteouts, directories and empty files only: no data
    add(t, 'usr/bin/.wh.tool-link')
    add(t, 'newdir', 'd', mode=0o700, mtime=1600000003)
    add(t, 'newdir/empty')
    add(t, 'data/.wh.big-copy')
EOF
	umoci raw add-layer --image "$IMG:t" "$W/l3.tar" &&
		umoci raw add-layer --image "$IMG:t" "$W/l4.tar" &&
		umoci config --image "$IMG:t" --config.entrypoint /usr/bin/tool \
			--config.env APP=1 &&
		rm -rf "$W/bundle" &&
		umoci unpack --image "$IMG:t" "$W/bundle" >/dev/null
}

# oci_implied_dirs OUT: the directories the top layer listing them lists
# only as parents of its entries (one "/path" a line): under overlayfs they
# show that layer's metadata (see erofs-convert(1), --no-merge)
oci_implied_dirs() {
	$PY - "$IMG" "$1" <<'EOF'
import json, os, sys, tarfile
d = sys.argv[1]
b = lambda dg: os.path.join(d, 'blobs', *dg.split(':'))
idx = json.load(open(os.path.join(d, 'index.json')))
m = json.load(open(b(idx['manifests'][0]['digest'])))
top = {}        # directory -> listed explicitly by the top layer having it
for l in m['layers']:
    explicit, implied = set(), set()
    with tarfile.open(b(l['digest']), 'r:*') as t:
        for e in t:
            p = '/'.join(x for x in e.name.split('/') if x not in ('', '.'))
            parts = p.split('/') if p else []
            for k in range(len(parts)):
                implied.add('/'.join(parts[:k]))
            if e.isdir():
                explicit.add(p)
    for p in implied | explicit:
        top[p] = p in explicit
with open(sys.argv[2], 'w') as f:
    for p, explicit in sorted(top.items()):
        if not explicit:
            f.write('/%s\n' % p)
EOF
}

# oci_ovl_filter CMP IMPLIED: the treecmp.py differences (file CMP) that
# a --no-merge stack may not have, one a line
oci_ovl_filter() {
	$PY - "$1" "$2" "$R" <<'EOF'
import os, re, sys
implied = set(l.rstrip('\n') for l in open(sys.argv[2]))
for line in open(sys.argv[1]):
    m = re.match(r'DIFF (/\S*): (\w+)', line)
    if not m:
        continue
    path, field = m.group(1), m.group(2)
    path = path.rstrip('/') or '/'
    if path in implied and field in ('mode', 'uid', 'gid', 'mtime',
                                     'xattrs', 'xattr', 'nlink'):
        continue
    # overlayfs reports 1 link for a directory merged from several
    # layers; it does not count subdirectories
    if field == 'nlink' and os.path.isdir(sys.argv[3] + path):
        continue
    # and a file's count from its layer, links a later layer's whiteouts
    # hide included (the hard-link groups themselves are still compared)
    n = re.search(r'expected (\d+), got (\d+)', line)
    if field == 'nlink' and n and int(n.group(2)) > int(n.group(1)):
        continue
    print(line.rstrip())
EOF
}
