"""Reference PSNR/SSIM numbers from scikit-image for the metric tests (tests/metrics.rs).

Writes tests/fixtures/metric_a.png (a 96x96 crop of the astronaut) and metric_b.png (the same
crop blurred, with seeded noise) and prints skimage's numbers, which the tests pin.

    /tmp/venv/bin/python tools/metric_reference.py
"""
import pathlib

import numpy as np
import skimage.color
import skimage.data
import skimage.filters
import skimage.io
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
a = skimage.data.astronaut()[40:136, 160:256]
rng = np.random.default_rng(7)
blurred = skimage.filters.gaussian(a, sigma=1.2, channel_axis=-1, preserve_range=True)
b = np.clip(np.round(blurred + rng.normal(0, 6, a.shape)), 0, 255).astype(np.uint8)
skimage.io.imsave(out / "metric_a.png", a, check_contrast=False)
skimage.io.imsave(out / "metric_b.png", b, check_contrast=False)


def y(img):
    return skimage.color.rgb2ycbcr(img)[..., 0]


def ssim(x, z, **kw):
    return structural_similarity(x, z, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=255, **kw)


for border in (0, 4):
    s = slice(border, a.shape[0] - border)
    ac, bc = a[s, s], b[s, s]
    print(f"border {border}: rgb psnr {peak_signal_noise_ratio(ac, bc, data_range=255):.6f}"
          f" ssim {ssim(ac, bc, channel_axis=-1):.6f}"
          f" | y psnr {peak_signal_noise_ratio(y(ac), y(bc), data_range=255):.6f}"
          f" ssim {ssim(y(ac), y(bc)):.6f}")
