"""Recomputes `visage compare`'s numbers with scikit-image from the PNGs it wrote.

    visage compare --scale 4 tests/fixtures/astronaut.png --out /tmp/cmp
    /tmp/venv/bin/python tools/check_compare.py tests/fixtures/astronaut.png /tmp/cmp
"""
import json
import pathlib
import sys

import numpy as np
import skimage.color
import skimage.io
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

photo, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
metrics = json.loads((out / "metrics.json").read_text())
scale = metrics["scale"]
ref = skimage.io.imread(photo)[..., :3]
worst = 0.0
for row in metrics["rows"]:
    img = skimage.io.imread(out / f"{row['upscaler']}.png")
    r = ref[: img.shape[0], : img.shape[1]]
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    b = slice(scale, -scale)
    y = lambda a: skimage.color.rgb2ycbcr(a)[..., 0][b, b]
    ours = [row["psnr_rgb"], row["ssim_rgb"], row["psnr_y"], row["ssim_y"]]
    theirs = [peak_signal_noise_ratio(r, img, data_range=255),
              structural_similarity(r, img, channel_axis=-1, **kw),
              peak_signal_noise_ratio(y(r), y(img), data_range=255),
              structural_similarity(y(r), y(img), **kw)]
    diff = max(abs(a - c) for a, c in zip(ours, theirs))
    worst = max(worst, diff)
    print(f"{row['upscaler']:<9} visage {np.round(ours, 4)} skimage {np.round(theirs, 4)} max diff {diff:.2e}")
print(f"largest difference {worst:.2e}")
sys.exit(0 if worst < 1e-3 else 1)
