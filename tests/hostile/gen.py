#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generates the inputs of the hostile-input corpus (tests/hostile/cases)
into a directory, at test time, so that no large or odd binary sits in the
tree: crafted tar archives (written block by block, so that a header can say
what no archiver would write), corrupt compressed streams, crafted
bootstraps derived from inputs/base.img, manifests, and the files the
misbehaving HTTP server serves.  Deterministic: the same tree gives the
same bytes.

    gen.py IN_DIR
"""

import gzip
import hashlib
import json
import lzma
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MTIME = 1600000000


# ---- tar, block by block ----

def _octal(value, width):
    s = b'%0*o' % (width - 1, value)
    if len(s) > width - 1:
        raise ValueError('%d does not fit %d octal digits' % (value, width))
    return s + b'\0'


def _base256(value, width):
    return bytes([0x80]) + value.to_bytes(width - 1, 'big')


def header(name, typeflag=b'0', size=0, link='', mode=0o644, devmajor=0,
           devminor=0, big_devminor=False):
    name = name.encode() if isinstance(name, str) else name
    link = link.encode() if isinstance(link, str) else link
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = _octal(mode, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = _octal(size, 12)
    h[136:148] = _octal(MTIME, 12)
    h[156:157] = typeflag
    h[157:157 + len(link)] = link
    h[257:265] = b'ustar\x0000'
    h[265:269] = b'root'
    h[297:301] = b'root'
    h[329:337] = _octal(devmajor, 8)
    h[337:345] = (_base256(devminor, 8) if big_devminor
                  else _octal(devminor, 8))
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h)
    return bytes(h)


def _pad(data):
    return data + b'\0' * (-len(data) % 512)


def entry(name, data=b'', **kw):
    return header(name, size=len(data), **kw) + _pad(data)


def pax(records, name='PaxHeaders/entry'):
    """A pax extended header from (key, value) pairs, in order, repeats
    allowed."""
    body = b''
    for key, value in records:
        key = key.encode() if isinstance(key, str) else key
        value = value.encode() if isinstance(value, str) else value
        rec = b' ' + key + b'=' + value + b'\n'
        n = len(rec) + 1
        while len(str(n).encode() + rec) != n:
            n += 1
        body += str(n).encode() + rec
    return header(name, typeflag=b'x', size=len(body)) + _pad(body)


def finish(blocks, record=20 * 512):
    data = blocks + b'\0' * 1024
    return data + b'\0' * (-len(data) % record)


def rand_bytes(n, seed):
    r = random.Random(seed)
    return r.getrandbits(8 * n).to_bytes(n, 'little')


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def flip(data, pos):
    b = bytearray(data)
    b[pos] ^= 0x55
    return bytes(b)


def run_ok(argv, data):
    """True when the tool accepts DATA on stdin (a stream test)."""
    p = subprocess.run(argv, input=data, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return p.returncode == 0


def compress(argv, data):
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def archives(d):
    dirent = header('ok/', typeflag=b'5', mode=0o755)
    write(f'{d}/dotdot.tar', finish(
        dirent + entry('ok/a', b'a\n') + entry('../escape-dotdot', b'x\n')))
    write(f'{d}/dotdot-mid.tar', finish(
        dirent + entry('ok/../../escape-mid', b'x\n')))
    write(f'{d}/absolute.tar', finish(
        dirent + entry('/abs-escape/planted', b'x\n')))
    write(f'{d}/symlink-path.tar', finish(
        dirent + header('lnk', typeflag=b'2', link='../outside',
                        mode=0o777)
        + entry('lnk/planted-through-link', b'x\n')))
    write(f'{d}/hardlink-missing.tar', finish(
        entry('a', b'a\n') + header('h', typeflag=b'1',
                                    link='missing-target')))
    write(f'{d}/hardlink-later.tar', finish(
        header('h', typeflag=b'1', link='later-target')
        + entry('later-target', b'a\n')))
    write(f'{d}/bigdev-pax.tar', finish(
        pax([('SCHILY.devmajor', '5000'), ('SCHILY.devminor', '3000000')])
        + header('bigdev', typeflag=b'3', mode=0o600, devmajor=5000)))
    write(f'{d}/bigdev-gnu.tar', finish(
        header('bigdev', typeflag=b'3', mode=0o600, devmajor=5000,
               devminor=3000000, big_devminor=True)))
    big = b'v' * 65535
    write(f'{d}/xattr-5x64k.tar', finish(
        pax([('SCHILY.xattr.trusted.' + c, big) for c in 'abcde'])
        + entry('bigxattr', b'x\n')))
    write(f'{d}/acl-garbage.tar', finish(
        pax([('SCHILY.xattr.system.posix_acl_access',
              b'garbage!garbage!garbage!')])
        + entry('badacl', b'x\n')))
    write(f'{d}/dup-xattr.tar', finish(
        pax([('SCHILY.xattr.user.a', '1'), ('SCHILY.xattr.user.a', '2')])
        + entry('dupx', b'x\n')))
    write(f'{d}/control-chars.tar', finish(
        header('evil\x1b]0;owned\x07\x1b[2J', typeflag=b'1',
               link='missing-esc-target')))
    # a 1 TiB entry (base-256 size) followed by 1 KiB of data
    h = bytearray(header('absurd-size-file'))
    h[124:136] = _base256(1 << 40, 12)
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h)
    write(f'{d}/absurd-size.tar', bytes(h) + b'\0' * 1024)
    whole = finish(entry('cut-short-file', rand_bytes(100000, 1)))
    write(f'{d}/truncated.tar', whole[:50000])
    # a whole first entry, then a header cut after 300 bytes
    write(f'{d}/truncated-header.tar',
          entry('first', b'first\n') + header('second-entry', size=10)[:300])

    # compressed: incompressible data, so the codecs store it and a flipped
    # byte is caught by nothing but the stream's own check
    payload = finish(entry('payload', rand_bytes(400000, 2)))
    gz = gzip.compress(payload, compresslevel=6, mtime=0)
    bad = flip(gz, len(gz) - 100000)
    try:
        zlib.decompress(bad, wbits=31)
        raise SystemExit('gen.py: flipped gzip still decodes')
    except zlib.error:
        pass
    write(f'{d}/gz-flip.tar.gz', bad)
    write(f'{d}/gz-cut.tar.gz', gz[:-4])
    lz = compress(['lz4', '-q', '-c'], payload)
    bad = flip(lz, len(lz) - 100000)
    assert not run_ok(['lz4', '-t', '-q'], bad), 'flipped lz4 passes lz4 -t'
    write(f'{d}/lz4-flip.tar.lz4', bad)
    write(f'{d}/lz4-cut.tar.lz4', lz[:-4])
    # zstd and xz: a tar with a blocking factor of 2048 (1 MiB records), so
    # the end marker comes long before the end of the stream
    padded = finish(entry('payload', rand_bytes(20000, 3)),
                    record=2048 * 512)
    zs = compress(['zstd', '-q', '-c', '--check'], padded)
    bad = flip(zs, len(zs) - 1)
    assert not run_ok(['zstd', '-t', '-q'], bad), 'flipped zstd passes'
    write(f'{d}/zstd-flip.tar.zst', bad)
    xz = lzma.compress(padded, check=lzma.CHECK_CRC64)
    bad = flip(xz, len(xz) - 10)
    assert not run_ok(['xz', '-t', '-q'], bad), 'flipped xz passes'
    write(f'{d}/xz-flip.tar.xz', bad)
    # compress(1): a header of 31-bit codes, and one that ends after its
    # header (both crashed libarchive 3.6 when its reader was appended
    # without a bid)
    write(f'{d}/z-wide.tar.Z', b'\x1f\x9d\x9f' + bytes(64))
    write(f'{d}/z-cut.tar.Z', b'\x1f\x9d\x90')

    # --tar=headerball: headers whose regular files carry no body
    hb_first = header('hb/', typeflag=b'5', mode=0o755) + header(
        'hb/first', size=5000)
    bad = bytearray(header('hb/second-entry', size=10))
    bad[0] ^= 0x20
    write(f'{d}/hb-checksum.tar', finish(hb_first + bytes(bad)))
    write(f'{d}/hb-truncated.tar',
          hb_first + header('hb/cut-entry', size=10)[:300])
    h = bytearray(header('hb/absurd-hb-size'))
    h[124:136] = _base256(1 << 62, 12)
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h)
    write(f'{d}/hb-absurd.tar', finish(hb_first + bytes(h)))
    write(f'{d}/hb-dotdot.tar', finish(
        hb_first + header('hb/../../escape-hb', size=3)))
    body = b'99 path=hb/pax-lies\n'
    write(f'{d}/hb-pax-lies.tar', finish(
        hb_first + header('PaxHeaders/x', typeflag=b'x', size=len(body))
        + _pad(body) + header('hb/x', size=1)))

    os.makedirs(f'{d}/tree/sub', exist_ok=True)
    write(f'{d}/tree/sub/file', rand_bytes(70000, 4))
    write(f'{d}/tree/small', b'small\n')


# ---- bootstraps ----

def crc32c_raw(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


SB = 1024


def reseal(img):
    """Recompute the superblock checksum of a 4 KiB-block image."""
    b = bytearray(img)
    b[SB + 4:SB + 8] = b'\0\0\0\0'
    b[SB + 4:SB + 8] = struct.pack('<I', crc32c_raw(0xFFFFFFFF,
                                                    bytes(b[SB:4096])))
    return bytes(b)


def patch(img, off, fmt, value, seal=True):
    b = bytearray(img)
    struct.pack_into(fmt, b, off, value)
    return reseal(bytes(b)) if seal else bytes(b)


def bootstraps(d):
    base = open(f'{HERE}/inputs/base.img', 'rb').read()
    blob = open(f'{HERE}/inputs/base.blob', 'rb').read()
    assert reseal(base) == base, 'inputs/base.img: checksum model is wrong'
    tag = base[1152:1152 + 64].rstrip(b'\0').decode()
    write(f'{d}/boot-bad-magic.img', patch(base, SB, '<I', 0x12345678))
    # a flipped byte in the device slot's reserved area, checksum kept
    write(f'{d}/boot-bad-checksum.img', flip(base, 1152 + 100))
    # device table overlapping the superblock (slot 8 = byte 1024)
    write(f'{d}/boot-devt-overlap.img', patch(base, SB + 88, '<H', 8))
    # 40 devices: the table runs past the end of the 4 KiB file
    write(f'{d}/boot-devt-past-end.img', patch(base, SB + 86, '<H', 40))
    write(f'{d}/boot-blkszbits.img', patch(base, SB + 12, '<B', 40))
    # a device of 2^32-1 blocks (16 TiB) for a 16 KiB blob
    write(f'{d}/boot-dev-blocks.img', patch(base, 1152 + 64, '<I',
                                            0xFFFFFFFF))
    for sub, data in (('good', blob), ('shortblob', blob[:100])):
        os.makedirs(f'{d}/{sub}', exist_ok=True)
        write(f'{d}/{sub}/x', base)
        write(f'{d}/{sub}/{tag}', data)
    os.makedirs(f'{d}/hugedev', exist_ok=True)
    write(f'{d}/hugedev/x', open(f'{d}/boot-dev-blocks.img', 'rb').read())
    write(f'{d}/hugedev/{tag}', blob)
    write(f'{d}/tag', tag.encode())
    os.mkfifo(f'{d}/fifo')


# ---- manifests and the files the servers serve ----

def sha(data):
    return hashlib.sha256(data).hexdigest()


def manifest(blobs, boot):
    return {'format': 'erofs-ondemand-manifest', 'version': 1,
            'block_size': 4096, 'chunk_size': 65536,
            'bootstrap': {'path': 'boot', 'size': len(boot),
                          'sha256': sha(boot)},
            'blobs': blobs, 'cookies': {'fsid': 'img'}}


def blob_rec(tag, data, size=None):
    return {'device_id': 1, 'tag': tag,
            'size': len(data) if size is None else size,
            'sha256': sha(data), 'path': tag}


def manifests(d):
    www = f'{d}/www'
    os.makedirs(www, exist_ok=True)
    boot = rand_bytes(4096, 5)
    t1 = rand_bytes(10000, 6)
    srv = rand_bytes(3 * 1048576 + 4567, 7)
    write(f'{www}/boot', boot)
    write(f'{www}/t1', t1)
    write(f'{www}/blob', srv)
    os.mkfifo(f'{www}/pipe')

    def dump(name, obj, raw_size=None, tail=''):
        text = json.dumps(obj)
        if raw_size is not None:
            text = text.replace('"size": 999999999', '"size": ' + raw_size)
        write(f'{d}/{name}', (text + tail).encode())

    for name, raw in (('man-size-max.json', '18446744073709551615'),
                      ('man-size-26digits.json',
                       '12345678901234567890123456'),
                      ('man-size-2p62.json', str(1 << 62))):
        dump(name, manifest([blob_rec('t1', t1, 999999999)], boot), raw)
    dump('man-trailing.json', manifest([blob_rec('t1', t1)], boot),
         tail='\n{"garbage": true}\n')
    dump('man-fifo.json', manifest([blob_rec('pipe', b'', 4096)], boot))
    dump('srv.json', manifest([blob_rec('blob', srv)], boot))

    # 65,535 blobs (the most the format's 16-bit device count allows) and
    # 10^6 blobs, written as text directly: json.dumps of a million dicts
    # costs more than the test it feeds
    def many(name, n):
        head = json.dumps(manifest([], boot))[:-len(', "cookies": '
                                                    '{"fsid": "img"}}')]
        assert head.endswith('"blobs": []')
        head = head[:-1]
        t1rec = json.dumps(blob_rec('t1', t1))
        fake = sha(b'')
        with open(f'{d}/{name}', 'w') as f:
            f.write(head)
            f.write(t1rec)
            for i in range(1, n):
                f.write(',{"device_id":%d,"tag":"b%07x","size":4096,'
                        '"sha256":"%s","path":"b%07x"}' % (i + 1, i, fake, i))
            f.write('], "cookies": {"fsid": "img"}}')
    many('man-65535.json', 65535)
    many('man-1e6.json', 1000000)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    archives(d)
    bootstraps(d)
    manifests(d)


if __name__ == '__main__':
    main()
