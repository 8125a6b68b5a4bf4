"""filter_spatial crops to the pixels its geometries' bounds overlap, as filter_bbox
(Copernicus: geopysparkdatacube.py L262-289 sets the extent to the bounds, save_result
keeps the pixels it overlaps, L2093-2106); pixels whose centre is outside the polygon
are nodata (geopyspark RasterizerOptions PixelIsPoint)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from tests.process_vectors import run_through_engine

EPSG = 32632
X, Y = 500005.0 + 10 * np.arange(10), 5000095.0 - 10 * np.arange(10)


def test_edge_pixels_the_bounds_cut_are_kept_as_nodata() -> None:
    from pyproj import Transformer

    cube = xr.DataArray(np.ones((10, 10)), dims=("y", "x"), coords={"y": Y, "x": X})
    cube.attrs = {"crs": f"EPSG:{EPSG}", "epsg": EPSG}
    to_lonlat = Transformer.from_crs(EPSG, 4326, always_xy=True).transform
    # a box from x 500027 to 500067 and y 5000027 to 5000073 (in lon/lat by its corners)
    corners = [(500027, 5000027), (500067, 5000027), (500067, 5000073), (500027, 5000073)]
    ring = [to_lonlat(x, y) for x, y in [*corners, corners[0]]]
    polygon = {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
    out = run_through_engine("filter_spatial", {"data": cube, "geometries": polygon})
    np.testing.assert_array_equal(out["x"].values, X[2:7])
    np.testing.assert_array_equal(out["y"].values, Y[2:8])
    values = out.transpose("y", "x").values
    # the west column and the north and south rows: cut by the bounds, centres outside
    assert np.isnan(values[:, 0]).all()
    assert np.isnan(values[0, :]).all() and np.isnan(values[-1, :]).all()
    assert (values[1:-1, 1:] == 1).all()
