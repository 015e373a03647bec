#!/usr/bin/env python3
"""The peer for issue 11's speed goal: the photo check as a Python engineer would write it with
Pillow and OpenCV's Haar cascade (opencv-python-headless ships haarcascade_frontalface_default.xml).

Per file, like `gradphoto check`: size and byte bounds, JPEG format, 272×354, declared dpi, a
colour test, the white-background band, one frontal face (Haar, the usual scaleFactor 1.1,
minNeighbors 5, minSize 40), head size and centre from the face box, sharpness (variance of the
Laplacian) and exposure on the face. One JSON line per file. Vectorised with numpy: a fair peer,
not a straw man. Used only by scripts/peer-check/run.sh (a benchmark, never a test).
"""
import json
import sys

import cv2
import numpy as np
from PIL import Image

cv2.setNumThreads(1)  # one core, like `gradphoto check`: CPU time is what is compared
CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
W, H = 272, 354


def check(path):
    codes = []
    with open(path, "rb") as f:
        data = f.read()
    if not 5 * 1024 <= len(data) <= 1024 * 1024:
        codes.append("too_small" if len(data) < 5 * 1024 else "too_large")
    img = Image.open(path)
    if img.format != "JPEG":
        return codes + ["not_jpeg"]
    if img.size != (W, H):
        return codes + ["wrong_size"]
    dpi = img.info.get("dpi", (0, 0))[0]
    if round(float(dpi)) < 300:
        codes.append("low_dpi")
    rgb = np.asarray(img.convert("RGB"))
    chroma = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    if (chroma >= 18).mean() < 0.02:
        codes.append("not_colour")
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    top = rgb[: int(H * 0.06)]
    sides = np.concatenate([rgb[: int(H * 0.4), : int(W * 0.1)], rgb[: int(H * 0.4), W - int(W * 0.1):]], axis=1)
    band = np.concatenate([top.reshape(-1, 3), sides.reshape(-1, 3)])
    bl = band.mean(axis=1)
    bc = band.max(axis=1).astype(np.int16) - band.min(axis=1)
    if ((bl >= 215) & (bc < 36)).mean() < 0.95:
        codes.append("background_not_white")
    faces = CASCADE.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
    if len(faces) == 0:
        codes.append("no_face")
    elif len(faces) > 1:
        codes.append("multiple_faces")
    else:
        x, y, w, h = faces[0]
        ratio = (h * 1.6) / H
        if ratio > 0.82:
            codes.append("head_too_large")
        elif ratio < 0.45:
            codes.append("head_too_small")
        if abs(x + w / 2 - W / 2) / W > 0.08:
            codes.append("off_centre")
        face = grey[y : y + h, x : x + w]
        if cv2.Laplacian(face, cv2.CV_64F).var() < 25:
            codes.append("blurry")
        luma = face[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].mean()
        if luma < 80:
            codes.append("too_dark")
        elif luma > 215:
            codes.append("overexposed")
    return codes


def main():
    for path in sys.argv[1:]:
        print(json.dumps({"file": path, "codes": check(path)}))


if __name__ == "__main__":
    main()
