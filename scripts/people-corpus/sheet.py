"""Contact sheet of built cases, for looking at them: python3 scripts/people-corpus/sheet.py CASE [OUT.png]
(CASE = valid, two_people, ...; writes target/people-corpus/sheet_CASE.png)."""

import os
import sys

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fetch import OUT  # noqa: E402

case = sys.argv[1] if len(sys.argv) > 1 else "valid"
files = sorted(f for f in os.listdir(os.path.join(OUT, "cases")) if f.endswith(f"__{case}.jpg"))
cols = 7
sheet = Image.new("RGB", (cols * 282, ((len(files) + cols - 1) // cols) * 380), (128, 128, 128))
draw = ImageDraw.Draw(sheet)
for i, f in enumerate(files):
    x, y = (i % cols) * 282 + 5, (i // cols) * 380 + 5
    sheet.paste(Image.open(os.path.join(OUT, "cases", f)).convert("RGB"), (x, y))
    draw.text((x, y + 358), f.split("__")[0], fill=(255, 255, 0))
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(OUT, f"sheet_{case}.png")
sheet.save(out)
print(out)
