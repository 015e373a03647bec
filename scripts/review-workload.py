#!/usr/bin/env python3
"""How many first-time photos of a campaign reach a person, under the review policies
(contract v2's `review_policy`), as a Markdown table for docs/review-workload.md.

    python3 scripts/review-workload.py [--photos 250000] [--flagged 0.10] [--appealed 0.10] [--sample 5]

The formula (one photo per student, first upload only):
    none:  N·p + N·(1−p)·a
    clean: N·p·(f + (1−f)·s) + N·(1−p)·a
N photos, p the check's pass rate, f the share of passing photos with a soft flag (always to a
person), s the sample share, a the share of the check's rejections that are appealed.
"""

import argparse

ap = argparse.ArgumentParser()
ap.add_argument("--photos", type=int, default=250_000)
ap.add_argument("--flagged", type=float, default=0.10)
ap.add_argument("--appealed", type=float, default=0.10)
ap.add_argument("--sample", type=float, default=5.0, help="sample_percent")
args = ap.parse_args()
n, f, a, s = args.photos, args.flagged, args.appealed, args.sample / 100

print(f"N = {n:,}, f = {f:.0%} flagged, a = {a:.0%} of rejections appealed, sample {args.sample:g} %\n")
print("| pass rate p | to a person under `none` | under `clean` | of which sampled | flagged | appealed | share saved |")
print("|---|---|---|---|---|---|---|")
for p in (0.60, 0.70, 0.80, 0.90, 0.95):
    passed, appeals = n * p, n * (1 - p) * a
    none = passed + appeals
    flagged, sampled = passed * f, passed * (1 - f) * s
    clean = flagged + sampled + appeals
    print(f"| {p:.0%} | {none:,.0f} | **{clean:,.0f}** | {sampled:,.0f} | {flagged:,.0f} | {appeals:,.0f} | {1 - clean / none:.0%} |")
