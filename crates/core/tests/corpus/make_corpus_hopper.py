"""Builds the second real person of the face corpus: Grace Hopper.

Source: `grace_hopper.jpg` from matplotlib's sample data (US Navy portrait of Rear Admiral Grace
Hopper, 1984, a work of the US federal government: public domain). matplotlib ships it in its
wheel: `pip download --no-deps matplotlib` and unzip
`matplotlib/mpl-data/sample_data/grace_hopper.jpg` (or `pip install matplotlib`; the script finds
it either way). She differs from the astronaut in every way the detector cares about: older,
glasses, a dark cap, a dark uniform, a blue backdrop with a flag.

The person is cut from the backdrop with OpenCV's GrabCut (`pip install opencv-python-headless`)
seeded with sure-foreground face/uniform regions and sure-background corners, the saturated flag
blue removed, holes (name tag, ribbons) filled, then placed on a 272x354 canvas like the
astronaut variants. `hopper_original_backdrop.jpg` keeps her real backdrop. The two-person
photos combine her with the astronaut cut-out of make_corpus.py.

Run from the repository root:  python3 crates/core/tests/corpus/make_corpus_hopper.py [WHEEL_OR_JPG]
"""

import glob
import io
import os
import sys
import zipfile

import cv2
import numpy as np
from PIL import Image, ImageFilter

OUT = os.path.dirname(os.path.abspath(__file__))
W, H = 272, 354
sys.path.insert(0, OUT)


def source_bytes():
    """grace_hopper.jpg from an argument (the .jpg or matplotlib's wheel), an installed
    matplotlib, or a wheel in the current folder."""
    member = "matplotlib/mpl-data/sample_data/grace_hopper.jpg"
    cands = sys.argv[1:]
    try:
        import matplotlib

        cands.append(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data", "grace_hopper.jpg"))
    except ImportError:
        pass
    cands += glob.glob("matplotlib-*.whl")
    for c in cands:
        if c.endswith(".whl") and os.path.exists(c):
            return zipfile.ZipFile(c).read(member)
        if os.path.exists(c):
            return open(c, "rb").read()
    sys.exit("grace_hopper.jpg not found: pip download --no-deps matplotlib, then pass the wheel")


def cutout(img):
    """RGBA Hopper with the backdrop transparent."""
    h, w = img.shape[:2]
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    cv2.ellipse(mask, (262, 230), (85, 110), 0, 0, 360, cv2.GC_FGD, -1)  # face
    mask[40:110, 200:330] = cv2.GC_FGD  # cap
    mask[380:600, 120:470] = cv2.GC_PR_FGD  # shoulders
    mask[330:600, 200:330] = cv2.GC_FGD  # collar and tie
    mask[0:20, :] = cv2.GC_BGD
    mask[:300, 0:40] = cv2.GC_BGD
    mask[:300, 470:] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(7)
    cv2.grabCut(img, mask, None, bgd, fgd, 8, cv2.GC_INIT_WITH_MASK)
    fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    fg = largest(fg)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    # Saturated flag blue above the shoulders is backdrop, not the (dark) navy cap.
    b, r = img[..., 0].astype(int), img[..., 2].astype(int)
    flag = (b - r > 60) & (b > 90)
    flag[330:, :] = False
    flag[150:240, :157] = True  # the dark canton sliver beside her hair
    fg[flag] = 0
    fg = largest(cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    # Fill holes: what the outside cannot reach (name tag, ribbons) is the person.
    inv = np.where(fg == 0, 255, 0).astype(np.uint8)
    ff, m = inv.copy(), np.zeros((h + 2, w + 2), np.uint8)
    for seed in [(0, 0), (w - 1, 0)]:
        cv2.floodFill(ff, m, seed, 128)
    fg[(inv == 255) & (ff != 128)] = 255
    rgba = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).convert("RGBA")
    rgba.putalpha(Image.fromarray(fg).filter(ImageFilter.GaussianBlur(0.8)))
    return rgba, fg


def largest(fg):
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.where(lab == big, 255, 0).astype(np.uint8)


IMG = cv2.imdecode(np.frombuffer(source_bytes(), np.uint8), cv2.IMREAD_COLOR)
SRC, MASK = cutout(IMG)
TOP = int(np.argmax(MASK[:, 200:330].any(1)))  # top of the cap
FACE_CX, CHIN = 262, 335


def place(canvas, person, top_y, chin_y, face_cx, head, cx, top, mirror=False):
    s = head * H / (chin_y - top_y)
    if mirror:
        person = person.transpose(Image.FLIP_LEFT_RIGHT)
        face_cx = person.width - 1 - face_cx
    scaled = person.resize((round(person.width * s), round(person.height * s)), Image.LANCZOS)
    canvas.paste(scaled, (round(cx * W - face_cx * s), round(top * H - top_y * s)), scaled)


def render(head=0.62, cx=0.5, top=0.06, bg=(255, 255, 255), mirror=False, subject=None):
    canvas = Image.new("RGB", (W, H), bg)
    place(canvas, subject(SRC) if subject else SRC, TOP, CHIN, FACE_CX, head, cx, top, mirror)
    return canvas


def exposure(factor):
    def f(p):
        rgb, a = p.convert("RGB"), p.getchannel("A")
        arr = np.asarray(rgb).astype(np.float32)
        arr = arr * factor if factor < 1 else 255 - (255 - arr) / factor
        out = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).convert("RGBA")
        out.putalpha(a)
        return out
    return f


def original_backdrop():
    """Her real portrait, cropped to 272:354 around the face and scaled down."""
    src = Image.fromarray(cv2.cvtColor(IMG, cv2.COLOR_BGR2RGB))
    ch = 560
    cw = round(ch * W / H)
    x0 = FACE_CX - cw // 2
    return src.crop((x0, 0, x0 + cw, ch)).resize((W, H), Image.LANCZOS)


def two_people(hopper, astronaut):
    """Hopper and the astronaut on one canvas: (head, cx, top) each."""
    import make_corpus as astro  # the astronaut cut-out and its landmarks

    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    h, x, t = astronaut
    place(canvas, astro.SRC, astro.HAIR_TOP, astro.CHIN, astro.FACE_CX, h, x, t)
    h, x, t = hopper
    place(canvas, SRC, TOP, CHIN, FACE_CX, h, x, t)
    return canvas


def save(name, img, quality=88, dpi=300):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())
    return len(buf.getvalue())


def main():
    corpus = {
        "hopper_valid.jpg": render(),
        "hopper_mirrored.jpg": render(mirror=True),
        "hopper_warm_white.jpg": render(bg=(252, 243, 226)),
        "hopper_head_too_large.jpg": render(head=0.80, top=0.04),
        "hopper_off_centre.jpg": render(cx=0.66),
        "hopper_blurry.jpg": render().filter(ImageFilter.GaussianBlur(2.6)),
        "hopper_too_dark.jpg": render(subject=exposure(0.38)),
        "hopper_original_backdrop.jpg": original_backdrop(),
        "two_people_side_by_side.jpg": two_people((0.42, 0.27, 0.2), (0.40, 0.74, 0.18)),
        "two_people_large_pair.jpg": two_people((0.50, 0.25, 0.1), (0.50, 0.76, 0.1)),
        "two_people_one_small.jpg": two_people((0.22, 0.86, 0.03), (0.56, 0.5, 0.08)),
    }
    for name, img in corpus.items():
        print(f"{name}: {save(name, img)} bytes")


if __name__ == "__main__":
    main()
