"""The pixel step and the corner transform read from pixel-centre coordinates
(:func:`hybrid.grid.pixel_step`, :func:`hybrid.grid.centres_transform`), which the GTiff
writer, the vector processes, the UDF tiling, the comparison and the figures share."""

from __future__ import annotations

import numpy as np
from rasterio.transform import from_origin, xy

from hybrid.grid import PIXEL_SIZE, centres_transform, pixel_step


def test_centres_give_back_the_transform_rasterio_places_them_with():
    transform = from_origin(600_000.0, 5_010_000.0, 20.0, 20.0)
    rows, cols = np.arange(4), np.arange(3)
    x = np.asarray(xy(transform, [0] * cols.size, cols)[0])
    y = np.asarray(xy(transform, rows, [0] * rows.size)[1])
    assert centres_transform(x, y) == transform
    assert pixel_step(x) == 20.0 and pixel_step(y) == -20.0


def test_an_axis_of_one_pixel_has_no_step_to_read():
    one = np.array([600_005.0])
    assert pixel_step(one) is None
    assert pixel_step(one, 1.0) == 1.0
    transform = centres_transform(one, np.array([5_000_005.0]))
    assert (transform.a, transform.e) == (PIXEL_SIZE, -PIXEL_SIZE)
    assert (transform.c, transform.f) == (600_000.0, 5_000_010.0)
