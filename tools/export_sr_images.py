"""Exports the natural training images for ESPCN from registry packages into a data folder
(not committed: rebuild with this script).

    /tmp/venv/bin/pip install scikit-image scikit-learn
    /tmp/venv/bin/python tools/export_sr_images.py /work/data/sr/natural

scikit-image's sample images (public domain or CC0 per skimage's data README) and scikit-learn's
two sample photos. The astronaut is left out: it is a test face.
"""
import pathlib
import sys

import numpy as np
import skimage.data
import skimage.io

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
names = ["chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
         "retina", "colorwheel", "camera", "coins", "moon", "page", "text", "brick", "grass",
         "gravel", "cell", "horse", "logo", "motorcycle_left", "motorcycle_right"]
count = 0
for name in names:
    try:
        img = getattr(skimage.data, name)()
    except Exception as e:  # some images need optional downloads: skip them
        print("skip", name, e)
        continue
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).astype(np.uint8) if img.max() <= 1 else img.astype(np.uint8)
    skimage.io.imsave(out / f"skimage_{name}.png", img, check_contrast=False)
    count += 1
try:
    from sklearn.datasets import load_sample_images
    for i, img in enumerate(load_sample_images().images):
        skimage.io.imsave(out / f"sklearn_{i}.png", img, check_contrast=False)
        count += 1
except ImportError:
    print("scikit-learn not installed: skipping its two sample images")
print("exported", count, "images to", out)
