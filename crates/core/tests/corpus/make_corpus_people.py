"""Builds the held-out real-people corpus for crates/core/tests/photo_people.rs.

The calibration people are the astronaut and Grace Hopper (make_corpus.py,
make_corpus_hopper.py); the rules' defaults were tuned on them. The people here were looked at
only after the defaults were set, and report precision/recall on people the defaults never saw.

Sources (each image read from the package as pip downloads it; nothing else is fetched):
  * obama.jpg, biden.jpg: PyPI `face_recognition` 1.3.0, sdist face_recognition-1.3.0.tar.gz,
    path face_recognition-1.3.0/tests/test_images/. Official White House portraits of Barack
    Obama and Joe Biden: works of the US federal government, public domain (17 U.S.C. § 105).
    The package itself is MIT.
Get them with:  pip download --no-deps --no-binary :all: face_recognition==1.3.0 -d /tmp/fr
Needs:          pip install opencv-python-headless pillow numpy  (GrabCut cuts the person out)

Each person is cut from the room behind them with OpenCV's GrabCut, seeded with a head ellipse
and a shoulders trapezoid measured once by hand (`PEOPLE`), put on a white 272x354 canvas at a
chosen scale and position, and saved as JPEG with 300 dpi density. Each variant changes one
thing. Run from the repository root:
    python3 crates/core/tests/corpus/make_corpus_people.py /tmp/fr/face_recognition-1.3.0.tar.gz
"""

import io
import os
import sys
import tarfile

import cv2
import numpy as np
from PIL import Image, ImageDraw

OUT = os.path.dirname(os.path.abspath(__file__))
W, H = 272, 354

# Per person: file in the tarball, head box with hair (x0, y0, x1, y1), the hair top row, the
# chin row and the face's centre column, measured by hand on the source; drop_blue removes a
# blue curtain that GrabCut leaves beside the neck.
PEOPLE = {
    "obama": dict(file="obama.jpg", head=(345, 30, 636, 405), hair_top=30, chin=418, cx=490, drop_blue=False),
    "biden": dict(file="biden.jpg", head=(384, 90, 750, 495), hair_top=95, chin=545, cx=570, drop_blue=True),
}


def read_source(tar_path, name):
    with tarfile.open(tar_path) as t:
        data = t.extractfile(f"face_recognition-1.3.0/tests/test_images/{name}").read()
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def cutout(img, head, drop_blue, scale=0.5):
    """RGBA person, backdrop transparent: GrabCut seeded with a keyhole (head and shoulders)."""
    hgt, wid = img.shape[:2]
    hx0, hy0, hx1, hy1 = head
    hw, hh = hx1 - hx0, hy1 - hy0
    cx = (hx0 + hx1) / 2
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] / scale
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    head_e = ((xx - cx) / (hw * 0.62)) ** 2 + ((yy - (hy0 + hy1) / 2 + hh * 0.04) / (hh * 0.62)) ** 2 <= 1
    below = yy > hy0 + hh * 0.75
    spread = hw * 0.5 + (yy - (hy0 + hh * 0.75)) * 1.2
    body = below & (np.abs(xx - cx) <= np.minimum(spread, hw * 1.55))
    mask[head_e | body] = cv2.GC_PR_FGD
    core = ((xx - cx) / (hw * 0.33)) ** 2 + ((yy - (hy0 + hh * 0.55)) / (hh * 0.35)) ** 2 <= 1
    tie = (yy > hy1 + hh * 0.15) & (np.abs(xx - cx) < hw * 0.22)
    mask[core | tie] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)
    cv2.grabCut(small, mask, None, bgd, fgd, 8, cv2.GC_INIT_WITH_MASK)
    fg = np.where((mask == 1) | (mask == 3), 255, 0).astype(np.uint8)
    if drop_blue:
        s3 = small.astype(np.int32)
        fg[(s3[..., 0] - s3[..., 2] > 35) & ~core & ~tie] = 0
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    if n > 2:
        fg = np.where(lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), 255, 0).astype(np.uint8)
    fg = cv2.resize(fg, (wid, hgt), interpolation=cv2.INTER_LINEAR)
    fg = cv2.GaussianBlur(fg, (5, 5), 1.2)
    rgba = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).convert("RGBA")
    rgba.putalpha(Image.fromarray(fg))
    return rgba


def place(canvas, p, head, cx, top, mirror=False, person=None):
    """Pastes person `p` so that hair top to chin is `head` of the canvas height, the face
    centre at `cx` of the width and the hair top at `top` of the height."""
    src = person or p["src"]
    s = head * H / (p["chin"] - p["hair_top"])
    fcx = p["cx"]
    if mirror:
        src = src.transpose(Image.FLIP_LEFT_RIGHT)
        fcx = src.width - 1 - fcx
    scaled = src.resize((round(src.width * s), round(src.height * s)), Image.LANCZOS)
    canvas.paste(scaled, (round(cx * W - fcx * s), round(top * H - p["hair_top"] * s)), scaled)
    return s


def render(p, head=0.60, cx=0.5, top=0.07, mirror=False, person=None):
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    place(canvas, p, head, cx, top, mirror, person)
    return canvas


def chin_y(p, head=0.60, top=0.07):
    return top * H + head * H


def exposure(p, factor):
    """Flash-blown subject on the white backdrop (brightness of the person only)."""
    src = p["src"]
    arr = np.asarray(src.convert("RGB")).astype(np.float32)
    arr = 255 - (255 - arr) / factor
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).convert("RGBA")
    out.putalpha(src.getchannel("A"))
    return out


def recolour_top(p, rgb_dark, rgb_light):
    """The dark suit below the chin recoloured (keeping its shading): a burgundy top."""
    src = p["src"]
    arr = np.asarray(src).copy()
    rgb = arr[..., :3].astype(np.float32)
    lum = rgb @ np.array([0.299, 0.587, 0.114])
    ys = np.arange(arr.shape[0])[:, None]
    suit = (lum < 80) & (ys > p["chin"] + 20)
    t = (lum / 80.0)[..., None]
    col = np.array(rgb_dark) * (1 - t) + np.array(rgb_light) * t
    rgb[suit] = col[suit]
    arr[..., :3] = rgb.clip(0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def scarf(img, p, colour, knot, head=0.60, top=0.07):
    """A neckerchief: a triangle hanging from a knot just below the chin."""
    cy = chin_y(p, head, top)
    x = W / 2
    d = ImageDraw.Draw(img)
    d.polygon([(x - 62, cy + 28), (x + 62, cy + 28), (x, cy + 105)], fill=colour)
    d.polygon([(x - 13, cy + 18), (x + 13, cy + 18), (x + 9, cy + 42), (x - 9, cy + 42)], fill=knot)
    return img


def motion_blur(img, length=11):
    """Camera shake: a horizontal smear of `length` px."""
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0 / length
    arr = cv2.filter2D(np.asarray(img), -1, k, borderType=cv2.BORDER_REPLICATE)
    return Image.fromarray(arr)


def stretched(p, fx):
    """A photo stretched horizontally by `fx` and cropped back to 272 wide (non-uniform)."""
    big = render(p, head=0.60 / 1.0, top=0.07)
    wide = big.resize((round(W * fx), H), Image.LANCZOS)
    x0 = (wide.width - W) // 2
    return wide.crop((x0, 0, x0 + W, H))


def save(name, img, quality=88, dpi=300):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())
    return len(buf.getvalue())


def main(tar_path):
    for p in PEOPLE.values():
        p["src"] = cutout(read_source(tar_path, p["file"]), p["head"], p["drop_blue"])
    corpus = {}
    for name, p in PEOPLE.items():
        corpus.update({
            f"{name}_valid.jpg": render(p),
            f"{name}_mirrored.jpg": render(p, mirror=True),
            f"{name}_smaller_head.jpg": render(p, head=0.50, top=0.12),
            f"{name}_larger_head.jpg": render(p, head=0.68, top=0.04),
            f"{name}_head_too_large.jpg": render(p, head=0.92, top=-0.03),
            f"{name}_head_too_small.jpg": render(p, head=0.20, top=0.30),
            f"{name}_off_centre.jpg": render(p, cx=0.66),
            f"{name}_shaken.jpg": motion_blur(render(p)),
            f"{name}_overexposed.jpg": render(p, person=exposure(p, 3.0)),
            f"{name}_stretched.jpg": stretched(p, 1.4),
            f"{name}_red_scarf.jpg": scarf(render(p), p, (205, 22, 30), (170, 15, 20)),
            f"{name}_green_scarf.jpg": scarf(render(p), p, (20, 150, 60), (15, 120, 45)),
            f"{name}_burgundy_top.jpg": render(p, person=recolour_top(p, (60, 5, 15), (150, 20, 45))),
        })
    pair = Image.new("RGB", (W, H), (255, 255, 255))
    place(pair, PEOPLE["obama"], 0.40, 0.26, 0.16)
    place(pair, PEOPLE["biden"], 0.40, 0.75, 0.16)
    corpus["obama_biden_side_by_side.jpg"] = pair
    big_small = Image.new("RGB", (W, H), (255, 255, 255))
    place(big_small, PEOPLE["biden"], 0.22, 0.85, 0.04)
    place(big_small, PEOPLE["obama"], 0.60, 0.45, 0.07)
    corpus["obama_with_small_face_beside.jpg"] = big_small
    for name, img in corpus.items():
        print(f"{name}: {save(name, img)} bytes")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
