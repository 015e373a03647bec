#!/usr/bin/env bash
# Whole-process speed of `gradphoto check` beside the Pillow + OpenCV-Haar peer (peer.py), one
# run, side by side, on the same photos: the people corpus (scripts/people-corpus) and the
# committed corpus. A benchmark, not a test: never called by scripts/test-all.sh.
#   scripts/peer-check/run.sh            # builds what it needs, prints CPU ms per photo
# Needs hyperfine (Debian) and makes a venv in target/peer-venv with pinned wheels
# (opencv-python-headless ships haarcascade_frontalface_default.xml).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install -y hyperfine" >&2; exit 2; }
if [ ! -x target/peer-venv/bin/python ]; then
  python3 -m venv target/peer-venv
  target/peer-venv/bin/pip install -q "opencv-python-headless==4.10.0.84" "pillow==11.0.0" "numpy==2.1.3"
fi
[ -d target/people-corpus/cases ] || { python3 scripts/people-corpus/fetch.py && python3 scripts/people-corpus/build.py; }
cargo build --release -q -p gradphoto-local --bin gradphoto
FILES=(target/people-corpus/cases/*.jpg crates/core/tests/corpus/*.jpg)
N=${#FILES[@]}
echo "$N photos"
# OpenCV would spread detectMultiScale over both cores; one thread each, so wall time is CPU time.
export OMP_NUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1
hyperfine -N -i --warmup 1 --runs "${RUNS:-7}" --export-json target/peer-check.json \
  -n gradphoto "target/release/gradphoto check --stage senior ${FILES[*]}" \
  -n peer "target/peer-venv/bin/python scripts/peer-check/peer.py ${FILES[*]}"
python3 - "$N" <<'PY'
import json, sys
n = int(sys.argv[1])
r = {x["command"]: x for x in json.load(open("target/peer-check.json"))["results"]}
med = {k: v["median"] for k, v in r.items()}
# hyperfine reports user and system time as means over the runs.
cpu = {k: v["user"] + v["system"] for k, v in r.items()}
for k in med:
    print(f"{k}: median {med[k]:.3f} s wall, {cpu[k]:.3f} s CPU (mean) -> {cpu[k] / n * 1000:.2f} ms CPU per photo")
print(f"peer / gradphoto, CPU: {cpu['peer'] / cpu['gradphoto']:.1f}x; wall: {med['peer'] / med['gradphoto']:.1f}x")
PY
