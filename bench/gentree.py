#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generates a benchmark tree: many small files plus large ones, with a
given share of duplicate 64 KiB-aligned chunks; or, with --tiny N, N tiny
files (0-64 bytes) in directories of 1000, for the per-entry cost.
Deterministic per seed."""
import argparse
import os
import random


def tiny(dest, n, r):
    d = None
    for i in range(n):
        if i % 1000 == 0:
            d = os.path.join(dest, "%03d" % (i // 1000000),
                             "%03d" % (i // 1000 % 1000))
            os.makedirs(d)
        fd = os.open(os.path.join(d, "f%06d" % i),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, r.randbytes(r.randrange(65)))
        os.close(fd)
    print("generated %d tiny files" % n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dest")
    ap.add_argument("--small", type=int, default=30000)
    ap.add_argument("--large-mib", type=int, default=860)
    ap.add_argument("--dup", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tiny", type=int, default=0,
                    help="only N tiny files, 1000 per directory")
    a = ap.parse_args()
    r = random.Random(a.seed)
    os.makedirs(a.dest, exist_ok=True)
    if a.tiny:
        tiny(a.dest, a.tiny, r)
        return
    total = 0
    # small files in a two-level fan-out, some of them copies
    pool = []
    for i in range(a.small):
        d = os.path.join(a.dest, "small", "%02x" % (i % 97), "%03d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        size = int(r.paretovariate(1.3) * 2000) % 65536 + 1
        if pool and r.random() < a.dup:
            data = r.choice(pool)
        else:
            data = r.randbytes(size)
            if len(pool) < 2000:
                pool.append(data)
        with open(os.path.join(d, "f%06d.dat" % i), "wb") as f:
            f.write(data)
        total += len(data)
    # large files made of 1 MiB pieces, a share of them repeated
    piece = 1 << 20
    pieces = []
    os.makedirs(os.path.join(a.dest, "large"), exist_ok=True)
    left = a.large_mib
    n = 0
    while left > 0:
        mib = min(left, r.choice([16, 32, 64, 128]))
        with open(os.path.join(a.dest, "large", "blob%03d.bin" % n), "wb") as f:
            for _ in range(mib):
                if pieces and r.random() < a.dup:
                    f.write(r.choice(pieces))
                else:
                    p = r.randbytes(piece)
                    if len(pieces) < 64:
                        pieces.append(p)
                    f.write(p)
        total += mib * piece
        left -= mib
        n += 1
    print("generated %d bytes in %d small and %d large files" %
          (total, a.small, n))


if __name__ == "__main__":
    main()
