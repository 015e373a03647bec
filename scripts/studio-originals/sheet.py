"""Contact sheet of originals (and, when a crop folder is given, each crop beside its original),
for looking at them:
    python3 scripts/studio-originals/sheet.py OUT.png FOLDER [--crops CROP_FOLDER] [--only SUBSTRING]
Originals are shown at a common height of 400 px on a grey ground, so the white backdrop's edge is
visible; crops at their own 272x354.
"""

import argparse
import os

from PIL import Image, ImageDraw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("folder")
    ap.add_argument("--crops")
    ap.add_argument("--only", default="")
    ap.add_argument("--cols", type=int, default=6)
    args = ap.parse_args()
    files = sorted(f for f in os.listdir(args.folder) if f.endswith(".jpg") and args.only in f)
    tiles = []
    for f in files:
        im = Image.open(os.path.join(args.folder, f)).convert("RGB")
        im.thumbnail((10_000, 400))
        tile = [im]
        crop = os.path.join(args.crops, f) if args.crops else None
        if crop and os.path.exists(crop):
            tile.append(Image.open(crop).convert("RGB"))
        w = sum(t.width for t in tile) + 6 * (len(tile) - 1)
        t = Image.new("RGB", (w, 420), (128, 128, 128))
        x = 0
        for part in tile:
            t.paste(part, (x, 0))
            x += part.width + 6
        ImageDraw.Draw(t).text((2, 404), f"{f} {Image.open(os.path.join(args.folder, f)).size}", fill=(255, 255, 0))
        tiles.append(t)
    cols = args.cols
    cw = max(t.width for t in tiles) + 10
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * cw, rows * 430), (90, 90, 90))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % cols) * cw + 5, (i // cols) * 430 + 5))
    sheet.save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
