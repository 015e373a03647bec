"""Runs today's `gradphoto check` on the built corpus and compares its codes with labels.csv:
precision and recall per code for the calibration and the held-out half, the valid photos it
rejects, and a per-person summary. Uses the existing release binary (it is not built here).
    python3 scripts/people-corpus/evaluate.py [--bin target/release/gradphoto]
Writes the markdown to stdout and to target/people-corpus/report.md.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build import SPLITS  # noqa: E402
from fetch import OUT, ROOT  # noqa: E402


def run_check(binary, stage, files):
    """{file name: (hard codes, soft flags)}; the check exits 1 when any photo fails."""
    res = subprocess.run([binary, "check", "--stage", stage, *files], capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.exit(f"gradphoto check failed ({res.returncode}): {res.stderr}")
    out = {}
    for line in res.stdout.splitlines():
        j = json.loads(line)
        out[os.path.basename(j["file"])] = (set(j["codes"]), set(j["flags"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "gradphoto"))
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} missing: build it first (cargo build --release -p gradphoto-local)")
    rows = list(csv.DictReader(open(os.path.join(OUT, "labels.csv"))))
    got = {}
    for stage in sorted({r["stage"] for r in rows}):
        files = [os.path.join(OUT, "cases", r["file"]) for r in rows if r["stage"] == stage]
        got.update(run_check(args.bin, stage, files))

    md = ["# gradphoto check on the people corpus", "",
          f"{len({r['person'] for r in rows})} people, {len(rows)} cases. "
          "A valid photo is a base photo with no expected code and no reviewer objection.", ""]
    counts = defaultdict(lambda: [0, 0, 0])  # (code, split) -> TP, FP, FN
    person = defaultdict(lambda: [0, 0])  # person -> exact matches, cases
    rejected_valid, objections, misses = defaultdict(list), [], []
    for r in rows:
        # Soft flags count too (possibly_stretched); a photo with only an expected flag is
        # still a passing photo, so "valid" below looks at the hard codes alone.
        want = set(r["expected_hard"].split()) | set(r.get("expected_soft", "").split())
        have = got[r["file"]][0] | got[r["file"]][1]
        for c in want | have:
            counts[c, r["split"]][0 if c in want and c in have else 1 if c in have else 2] += 1
        person[r["person"]][0] += want == have
        person[r["person"]][1] += 1
        if want != have:
            misses.append((r, want, have))
        if r["case"] == "valid" and not want:
            if r["reviewer_note"]:
                objections.append((r, have))
            elif have:
                rejected_valid[r["split"]].append((r["file"], have))

    for split in SPLITS:
        people = sorted({r["person"] for r in rows if r["split"] == split})
        md += [f"## {split} ({len(people)} people: {', '.join(people)})", "",
               "| code | TP | FP | FN | precision | recall |", "|---|---|---|---|---|---|"]
        for code in sorted({c for c, s in counts if s == split}):
            tp, fp, fn = counts[code, split]
            p = f"{tp / (tp + fp):.2f}" if tp + fp else "–"
            rc = f"{tp / (tp + fn):.2f}" if tp + fn else "–"
            md.append(f"| `{code}` | {tp} | {fp} | {fn} | {p} | {rc} |")
        valid = [r for r in rows if r["split"] == split and r["case"] == "valid" and not r["expected_hard"] and not r["reviewer_note"]]
        md += ["", f"Valid photos rejected: {len(rejected_valid[split])} of {len(valid)}"]
        md += [f"- `{f}`: {' '.join(sorted(c))}" for f, c in rejected_valid[split]]
        md.append("")

    md += ["## Base photos a reviewer would reject for reasons no code covers", "",
           "| file | reviewer | check |", "|---|---|---|"]
    md += [f"| `{r['file']}` | {r['reviewer_note']} | {' '.join(sorted(h)) or 'pass'} |" for r, h in objections]
    md += ["", "## Per person (cases whose codes match exactly)", "",
           "| person | split | exact | cases |", "|---|---|---|---|"]
    split_of = {r["person"]: r["split"] for r in rows}
    md += [f"| {p} | {split_of[p]} | {m} | {n} |" for p, (m, n) in person.items()]
    md += ["", "## Every mismatch", "", "| file | expected | check |", "|---|---|---|"]
    md += [f"| `{r['file']}` | {' '.join(sorted(w)) or '–'} | {' '.join(sorted(h)) or 'pass'} |" for r, w, h in misses]
    text = "\n".join(md) + "\n"
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
