"""Builds the real-face corpus for crates/core/tests/photo_faces.rs.

Source: scikit-image's `astronaut.png` (Eileen Collins, NASA portrait, public domain), read from
the installed scikit-image package (`pip install scikit-image pillow numpy`). The person is cut
from the studio backdrop (the backdrop is the low-chroma bright region connected to the top
edge), then placed on a 272x354 canvas at a chosen scale and position, and saved as JPEG with
300 dpi JFIF density. Each variant changes one thing, so it trips one rule.

Run from the repository root:  python3 crates/core/tests/corpus/make_corpus.py
The outputs are committed (each < 30 KB) so `cargo test` needs no Python.
"""

import io
import os
import sys

import numpy as np
import skimage
from PIL import Image, ImageDraw, ImageFilter
from skimage import io as skio, measure, morphology

OUT = os.path.dirname(os.path.abspath(__file__))
W, H = 272, 354


def cutout():
    """RGBA astronaut with the backdrop transparent (alpha feathered by 1 px)."""
    a = skio.imread(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")).astype(np.int32)
    chroma = a.max(2) - a.min(2)
    lum = (a[..., 0] * 77 + a[..., 1] * 150 + a[..., 2] * 29) >> 8
    lab = measure.label((chroma < 30) & (lum > 150), connectivity=1)
    seeds = set(lab[0, 100:360].tolist()) - {0}
    bg = morphology.opening(np.isin(lab, list(seeds)), morphology.disk(2))
    fg = morphology.remove_small_holes(~bg, max_size=5000)
    fg = morphology.opening(fg, morphology.disk(3))
    lab2 = measure.label(fg)
    big = max(measure.regionprops(lab2), key=lambda r: r.area).label
    fg = lab2 == big
    # Only the person: drop the flag (left) and the shuttle model (right).
    fg[:, :100] = False
    fg[:, 360:] = False
    alpha = Image.fromarray((fg * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    rgba = Image.fromarray(a.astype(np.uint8)).convert("RGBA")
    rgba.putalpha(alpha)
    return rgba, fg


SRC, MASK = cutout()
# Landmarks of the source, measured once: top of the hair, face centre column, chin.
HAIR_TOP = int(np.argmax(MASK[:, 150:300].any(1)))
FACE_CX = 226
CHIN = 185


def render(head=0.56, cx=0.5, top=0.08, mirror=False, bg=(255, 255, 255), subject=None, people=None):
    """The astronaut on a W x H canvas of colour `bg`: head height (hair top to chin) is `head`
    of the canvas height, the face centre at `cx` of the width, the hair top at `top` of the
    height. `subject` edits the cut-out person before placing; `people` places several."""
    canvas = Image.new("RGB", (W, H), bg)
    for (h, x, t) in people or [(head, cx, top)]:
        s = h * H / (CHIN - HAIR_TOP)
        person = SRC.transpose(Image.FLIP_LEFT_RIGHT) if mirror else SRC
        fcx = (SRC.width - 1 - FACE_CX) if mirror else FACE_CX
        if subject:
            person = subject(person)
        scaled = person.resize((round(SRC.width * s), round(SRC.height * s)), Image.LANCZOS)
        ox = round(x * W - fcx * s)
        oy = round(t * H - HAIR_TOP * s)
        canvas.paste(scaled, (ox, oy), scaled)
    return canvas


def exposure(factor):
    """Scales the person's brightness only (backlit or flash-blown subject, white backdrop)."""
    def f(p):
        rgb, a = p.convert("RGB"), p.getchannel("A")
        arr = np.asarray(rgb).astype(np.float32)
        if factor < 1:
            arr = arr * factor
        else:
            arr = 255 - (255 - arr) / factor
        out = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).convert("RGBA")
        out.putalpha(a)
        return out
    return f


def white_suit(p):
    """Recolours the orange suit to white cloth, keeping its shading (white shirt case)."""
    arr = np.asarray(p).copy()
    rgb = arr[..., :3].astype(np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    ys = np.arange(arr.shape[0])[:, None]
    orange = (r > 120) & (r - b > 70) & (r > g) & (ys > 200)
    shade = (r[orange] * 0.25 + 178).clip(0, 252)
    for c in range(3):
        rgb[..., c][orange] = shade
    arr[..., :3] = rgb.astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def back_of_head(p):
    """Covers the face with hair texture: the back of a head, no face to find."""
    arr = np.asarray(p).copy()
    patch = arr[35:75, 185:265, :3]  # hair above the forehead
    tile = np.tile(patch, (4, 2, 1))
    yy, xx = np.mgrid[0:arr.shape[0], 0:arr.shape[1]]
    face = ((xx - FACE_CX) / 62.0) ** 2 + ((yy - 120) / 75.0) ** 2 <= 1
    ty, tx = (yy - 45) % tile.shape[0], (xx - 160) % tile.shape[1]
    arr[..., :3][face] = tile[ty[face], tx[face]]
    out = Image.fromarray(arr, "RGBA").filter(ImageFilter.GaussianBlur(0.6))
    out.putalpha(p.getchannel("A"))
    return out


def corner_shadow(img, strength=0.25, radius=150):
    """Darkens the top-left corner of the backdrop (a cast shadow)."""
    arr = np.asarray(img).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    k = 1 - strength * np.clip(1 - np.hypot(xx, yy) / radius, 0, 1)
    return Image.fromarray((arr * k[..., None]).clip(0, 255).astype(np.uint8))


def red_scarf(img, head=0.56, cx=0.5, top=0.08):
    """Draws a red neckerchief knot and triangle below the chin (a Young Pioneers scarf)."""
    s = head * H / (CHIN - HAIR_TOP)
    chin_y = top * H + (CHIN - HAIR_TOP) * s
    x = cx * W
    d = ImageDraw.Draw(img)
    red = (200, 24, 30)
    d.polygon([(x - 70, chin_y + 45), (x + 70, chin_y + 45), (x, chin_y + 120)], fill=red)
    d.polygon([(x - 14, chin_y + 35), (x + 14, chin_y + 35), (x + 10, chin_y + 60), (x - 10, chin_y + 60)], fill=(170, 15, 20))
    return img


def save(name, img, quality=90, dpi=300):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    data = buf.getvalue()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return len(data)


def main():
    corpus = {
        # Passes.
        "astronaut_valid.jpg": render(),
        "astronaut_mirrored.jpg": render(mirror=True),
        "astronaut_smaller_head.jpg": render(head=0.50, top=0.12),
        "astronaut_larger_head.jpg": render(head=0.64, top=0.06),
        "astronaut_warm_white.jpg": render(bg=(252, 243, 226)),
        # One rule each.
        "astronaut_white_suit.jpg": render(subject=white_suit),
        "astronaut_head_too_large.jpg": render(head=0.86, top=0.05),
        "astronaut_head_too_small.jpg": render(head=0.36, top=0.16),
        "astronaut_head_cropped_top.jpg": render(head=0.60, top=-0.05),
        "astronaut_off_centre.jpg": render(cx=0.64),
        "astronaut_blurry.jpg": render().filter(ImageFilter.GaussianBlur(2.6)),
        "astronaut_too_dark.jpg": render(subject=exposure(0.38)),
        "astronaut_overexposed.jpg": render(subject=exposure(2.5)),
        "astronaut_red_scarf.jpg": red_scarf(render()),
        "astronaut_two_people.jpg": render(people=[(0.40, 0.26, 0.18), (0.40, 0.74, 0.18)]),
        "astronaut_back_of_head.jpg": render(subject=back_of_head),
        "astronaut_grey_background.jpg": render(bg=(190, 190, 190)),
        "astronaut_blue_background.jpg": render(bg=(67, 142, 219)),
        "astronaut_pale_blue_background.jpg": render(bg=(222, 236, 252)),
        "astronaut_shadowed_corner.jpg": corner_shadow(render()),
    }
    for name, img in corpus.items():
        n = save(name, img, quality=70 if name == "astronaut_valid.jpg" else 88)
        print(f"{name}: {n} bytes")
    n = save("astronaut_q95.jpg", render(), quality=95)
    print(f"astronaut_q95.jpg: {n} bytes")


if __name__ == "__main__":
    sys.exit(main())
