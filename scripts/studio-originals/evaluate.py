"""Runs the crop suggestion (自动裁剪) over studio originals (folders or files) and judges what it makes:
`gradphoto crop --out TMP` on the originals, then `gradphoto check` on the crops at each stage
(senior, the default, and junior), and prints a markdown report:

- per person and overall: originals, suggestions made, refusals by code, crops that pass the
  check at every stage, the codes of the crops that fail, `possibly_stretched` flags, the
  suggestion's own findings;
- for every crop: the output is exactly 272x354, and the rectangle keeps the output's aspect:
  |w*354 - h*272| <= 354 (a pixel of rounding, no stretching);
- for every crop that fails: what `gradphoto check --explain` measured (crown, head ratio,
  eye line, centre offset, face box), so the failure can be read without opening the photo.

A crop passes when the suggestion was made, the output is 272x354, the aspect holds and the
check passes at every stage run. Exit 1 when under 90 % of the originals pass (a refusal counts
as not passing), 2 when the binary fails. The people come from OUT/manifest.csv when make.py
wrote one beside the originals, else from the file name (what precedes _WxH).

    python3 scripts/studio-originals/evaluate.py FOLDER_OR_FILE... [--bin target/release/gradphoto]
        [--stages senior junior] [--keep DIR] [--report FILE.md] [--skip NAME...]
It does not build the binary: cargo build --release -p gradphoto-local --bin gradphoto
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
W_ID, H_ID = 272, 354
PASS_NEEDED = 0.90


def run_json(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd[:3])}… failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()], res.stderr.strip()


def people_of(paths):
    """{original's path: (person, source id)} from the manifest.csv beside it, else from the name."""
    out, manifests = {}, {}
    for p in paths:
        folder, name = os.path.split(p)
        if folder not in manifests:
            m = os.path.join(folder, "manifest.csv")
            manifests[folder] = {r["file"]: (r["person"], r["source_id"]) for r in csv.DictReader(open(m, newline=""))} \
                if os.path.exists(m) else {}
        stem = re.sub(r"_\d+x\d+$", "", os.path.splitext(name)[0])
        out[p] = manifests[folder].get(name, (stem, stem))
    return out


def originals(paths, skip):
    """The *.jpg / *.jpeg files of the folders (sorted) and the files given, minus `skip` names."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += [os.path.join(p, f) for f in sorted(os.listdir(p)) if f.lower().endswith((".jpg", ".jpeg"))]
        else:
            out.append(p)
    return [p for p in out if os.path.basename(p) not in skip]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+", help="folders of originals (*.jpg) or files")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "gradphoto"), help="the gradphoto binary")
    ap.add_argument("--stages", nargs="+", default=["senior", "junior"], help="stages the crops are checked at")
    ap.add_argument("--keep", help="write the crops here (default: a temporary folder)")
    ap.add_argument("--report", help="also write the markdown here")
    ap.add_argument("--skip", nargs="*", default=[], help="file names to leave out (e.g. copies)")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} missing: cargo build --release -p gradphoto-local --bin gradphoto")
    paths = originals(args.paths, set(args.skip))
    if not paths:
        sys.exit(f"no originals in {' '.join(args.paths)}")
    names = [os.path.basename(p) for p in paths]
    if len(set(names)) != len(names):
        sys.exit("two originals share a file name: crop writes OUT/<stem>.jpg, so one would overwrite the other")
    who = {os.path.basename(p): v for p, v in people_of(paths).items()}
    files = names
    tmp = args.keep or tempfile.mkdtemp(prefix="studio-crops-")
    os.makedirs(tmp, exist_ok=True)

    crop_lines, crop_summary = run_json([args.bin, "crop", "--out", tmp, *paths])
    crop = {os.path.basename(j["file"]): j for j in crop_lines}
    outputs = {f: j["out"] for f, j in crop.items() if "out" in j}
    checks = {}  # stage -> {original name: check line}
    for stage in args.stages:
        lines, _ = run_json([args.bin, "check", "--stage", stage, "--explain", *outputs.values()])
        by_out = {j["file"]: j for j in lines}
        checks[stage] = {f: by_out.get(o) for f, o in outputs.items()}

    rows = []
    for f in files:
        person, sid = who[f]
        j = crop.get(f)
        r = {"file": f, "person": person, "source": sid, "made": False, "refusal": None, "size_ok": None,
             "aspect_ok": None, "passes": False, "codes": {}, "flags": set(), "findings": [], "geometry": {}}
        if j is None:
            r["refusal"] = "no_line"
        elif "error" in j:
            r["refusal"] = j["error"]["code"]
            r["message"] = j["error"]["message"]
        else:
            r["made"] = True
            c = j["crop"]
            r["rect"] = (c["x"], c["y"], c["w"], c["h"])
            r["upscale"] = j["scale"]
            r["original"] = (j["width"], j["height"])
            r["aspect_err"] = abs(c["w"] * H_ID - c["h"] * W_ID)
            r["aspect_ok"] = r["aspect_err"] <= H_ID
            r["inside"] = c["x"] + c["w"] <= j["width"] and c["y"] + c["h"] <= j["height"]
            with Image.open(j["out"]) as im:
                r["out_size"] = im.size
                r["dpi"] = im.info.get("dpi")
            r["size_ok"] = r["out_size"] == (W_ID, H_ID)
            r["findings"] = [x["code"] for x in j.get("findings", [])]
            ok = r["size_ok"] and r["aspect_ok"] and r["inside"]
            for stage in args.stages:
                line = checks[stage].get(f)
                if line is None:
                    r["codes"][stage] = ["no_check_line"]
                    ok = False
                    continue
                r["codes"][stage] = line["codes"]
                r["flags"] |= set(line["flags"])
                r["geometry"][stage] = line.get("geometry")
                ok = ok and line["verdict"] == "pass"
            r["passes"] = ok
        rows.append(r)

    md = report(rows, args, crop_summary)
    print(md)
    if args.report:
        with open(args.report, "w") as fh:
            fh.write(md + "\n")
    passed = sum(r["passes"] for r in rows)
    sys.exit(0 if passed >= PASS_NEEDED * len(rows) else 1)


def pct(a, b):
    return f"{100 * a / b:.0f} %" if b else "–"


def report(rows, args, crop_summary):
    stages = args.stages
    where = " ".join(f"`{os.path.relpath(os.path.abspath(p), ROOT)}`" for p in args.paths)
    md = [f"# Crop suggestion on {where}" + (f" (without {', '.join(args.skip)})" if args.skip else ""), "",
          f"`{os.path.relpath(args.bin, ROOT)} crop` then `check --stage {' / '.join(stages)}`. "
          f"A crop passes when a suggestion was made, the output is {W_ID}x{H_ID}, |w*354 - h*272| <= 354 and the check "
          f"passes at every stage. crop said: {crop_summary.splitlines()[-1] if crop_summary else '–'}", ""]
    groups = defaultdict(list)
    for r in rows:
        groups[r["person"]].append(r)

    def line(name, rs):
        made = [r for r in rs if r["made"]]
        refused = Counter(r["refusal"] for r in rs if not r["made"])
        passing = sum(r["passes"] for r in rs)
        fail_codes = Counter(c for r in made if not r["passes"] for c in {c for s in stages for c in r["codes"].get(s, [])})
        per_stage = " / ".join(str(sum(1 for r in made if not r["codes"].get(s))) for s in stages)
        stretched = sum("possibly_stretched" in r["flags"] for r in made)
        bad_geom = sum(not (r["size_ok"] and r["aspect_ok"] and r.get("inside", True)) for r in made)
        findings = Counter(c for r in made for c in r["findings"])
        return (f"| {name} | {len(rs)} | {len(made)} | {', '.join(f'{k} {v}' for k, v in sorted(refused.items())) or '–'} | "
                f"{per_stage} | **{passing}** ({pct(passing, len(rs))}) | "
                f"{', '.join(f'`{k}` {v}' for k, v in sorted(fail_codes.items())) or '–'} | {stretched} | {bad_geom} | "
                f"{', '.join(f'`{k}` {v}' for k, v in sorted(findings.items())) or '–'} |")

    md += [f"| person | originals | suggested | refused (code) | crops passing {' / '.join(stages)} | pass (all stages) | "
           "failing crops by code (any stage) | `possibly_stretched` | wrong size or aspect | suggestion's findings |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    md += [line(p, rs) for p, rs in sorted(groups.items())]
    md.append(line("**all**", rows))
    passed = sum(r["passes"] for r in rows)
    md += ["", f"**Overall: {passed} of {len(rows)} originals give a passing crop ({pct(passed, len(rows))}); "
               f"{'meets' if passed >= PASS_NEEDED * len(rows) else 'UNDER'} the {PASS_NEEDED:.0%} bar.**", ""]

    made = [r for r in rows if r["made"]]
    if made:
        ups = [r["upscale"] for r in made]
        errs = [r["aspect_err"] for r in made]
        md += [f"Every crop: output {W_ID}x{H_ID}: {sum(r['size_ok'] for r in made)} of {len(made)}; "
               f"|w*354 - h*272| <= 354: {sum(r['aspect_ok'] for r in made)} of {len(made)} (largest {max(errs)}); "
               f"inside the original: {sum(r['inside'] for r in made)} of {len(made)}; "
               f"scale (output px per original px) {min(ups):.2f}–{max(ups):.2f}.", ""]

    md += ["| original | size | crop x,y,w,h | scale | result | geometry of the crop (check --explain, first stage) |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if not r["made"]:
            md.append(f"| `{r['file']}` | | | | refused `{r['refusal']}`: {r.get('message', '')} | |")
            continue
        res = "pass" if r["passes"] else "; ".join(
            f"{s}: {' '.join(r['codes'][s]) or 'pass'}" for s in stages)
        if not r["size_ok"]:
            res += f"; output {r['out_size']}"
        if not r["aspect_ok"]:
            res += f"; aspect error {r['aspect_err']}"
        if r["flags"]:
            res += f"; flags {' '.join(sorted(r['flags']))}"
        md.append(f"| `{r['file']}` | {r['original'][0]}x{r['original'][1]} | {','.join(map(str, r['rect']))} | "
                  f"{r['upscale']:.3f} | {res} | {geometry(r['geometry'].get(stages[0]))} |")
    return "\n".join(md)


def geometry(g):
    if not g:
        return "–"
    fb = g["face_box"]
    return (f"crown {g['crown']}, chin {g['chin']:.0f}, head {g['head_ratio']:.2f}, eye line {g['eye_line']:.0f}, "
            f"centre {g['centre_offset']:+.0f}, face {fb[0]:.0f},{fb[1]:.0f} {fb[2]:.0f}x{fb[3]:.0f}, "
            f"roll {g['roll_degrees']:.0f}°, w/h {g['width_to_height']:.2f}")


if __name__ == "__main__":
    main()
