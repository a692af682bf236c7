"""Copies the public-domain test portraits that ship inside registry packages into
tests/fixtures/ (run once; the outputs are committed).

    python -m venv /tmp/venv && /tmp/venv/bin/pip install scikit-image matplotlib
    /tmp/venv/bin/python tools/make_fixtures.py

- astronaut.png: scikit-image `skimage.data.astronaut()` (Eileen Collins, NASA, public domain).
- grace_hopper.jpg: matplotlib `mpl-data/sample_data/grace_hopper.jpg` (US Navy, public domain).
"""
import pathlib
import shutil

import matplotlib
import skimage.data
import skimage.io

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
out.mkdir(parents=True, exist_ok=True)
skimage.io.imsave(out / "astronaut.png", skimage.data.astronaut(), check_contrast=False)
src = pathlib.Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
shutil.copyfile(src, out / "grace_hopper.jpg")
print("wrote", sorted(p.name for p in out.iterdir()))
