"""A `spatial_extent` in a projected CRS picks its UTM zone as Copernicus does: the
representative point of the box in its own CRS, reprojected to lon/lat
(openeo-python-driver 9e5b49b2 util/geometry.py ``BoundingBox.best_utm`` L716-723,
util/utm.py ``auto_utm_epsg_for_geometry`` L62-76), used by load_stac when the products
found lie in several UTM zones (openeo-geopyspark-driver 9baf2e10 load_stac.py L624-626).

The EPSG:3035 box below straddles 12 E at 60 N: its own centre is at 11.99999 E (zone 32),
the centre of the lon/lat envelope of its corners at 12.00047 E (zone 33)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

#: 4 km x 4 km in EPSG:3035 across the UTM 32/33 border
LAEA_BOX = (4430872.0, 4099515.0, 4434872.0, 4103515.0)


def _scene(root: Path, scene_id: str, epsg: int) -> dict[str, Any]:
    """An Earth Search Collection-1 item of uniform B04 in ``epsg`` around the box."""
    from affine import Affine
    from pyproj import Transformer

    from hybrid.sample.cog import write_cog

    west, south, east, north = LAEA_BOX
    to_lonlat = Transformer.from_crs(3035, 4326, always_xy=True).transform
    lon, lat = to_lonlat((west + east) / 2, (south + north) / 2)
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    x0, y0, side = float(np.floor(x / 60) * 60 - 4500), float(np.floor(y / 60) * 60 + 4500), 900
    folder = root / scene_id
    folder.mkdir(parents=True)
    transform = Affine(10, 0, x0, 0, -10, y0)
    write_cog(folder / "red.tif", np.full((side, side), 1500, np.uint16), transform=transform,
              crs=epsg, nodata=0, blocksize=256)  # fmt: skip
    corners = [(x0, y0), (x0 + 9000, y0), (x0 + 9000, y0 - 9000), (x0, y0 - 9000), (x0, y0)]
    back = Transformer.from_crs(epsg, 4326, always_xy=True).transform
    ring = [back(*c) for c in corners]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": scene_id,
        "collection": "sentinel-2-c1-l2a",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"datetime": "2023-06-04T10:40:00Z", "eo:cloud_cover": 5.0, "proj:epsg": epsg,
                       "s2:processing_baseline": "05.09"},
        "assets": {"red": {"href": str(folder / "red.tif"), "type": "image/tiff", "roles": ["data"],
                           "proj:shape": [side, side], "proj:transform": list(transform)[:6],
                           "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001,
                                             "offset": -0.1}]}},
        "links": [],
    }  # fmt: skip
    (folder / "item.json").write_text(json.dumps(item))
    return {"rel": "item", "href": f"./{scene_id}/item.json"}


def _b04_netcdf(extent: dict[str, Any]) -> dict[str, Any]:
    """A graph loading B04 over ``extent`` in June 2023, saved as netCDF."""
    return {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "SENTINEL2_L2A", "spatial_extent": extent, "bands": ["B04"],
            "temporal_extent": ["2023-06-01", "2023-07-01"]}},
        "save": {"process_id": "save_result", "arguments": {"data": {"from_node": "load"},
                 "format": "netCDF"}, "result": True},
    }  # fmt: skip


def test_a_projected_extent_takes_the_zone_of_its_own_representative_point(tmp_path):
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.grid import BBox, target_epsg

    links = [
        _scene(tmp_path, "S2A_32VPN_20230604", 32632),
        _scene(tmp_path, "S2A_33VUH_20230604", 32633),
    ]
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": "sentinel-2-c1-l2a",
        "description": "two zones", "license": "proprietary", "links": links,
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                   "temporal": {"interval": [[None, None]]}},
    }  # fmt: skip
    (tmp_path / "collection.json").write_text(json.dumps(collection))
    west, south, east, north = LAEA_BOX
    extent = {"west": west, "south": south, "east": east, "north": north, "crs": 3035}
    graph = _b04_netcdf(extent)
    backend = LocalBackend(LocalSettings(stac=str(tmp_path / "collection.json")))
    (nc,) = backend.execute(graph, out_dir=tmp_path / "out").files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        assert "UTM zone 32N" in ds["crs"].attrs["crs_wkt"]
        values = ds["B04"].values
    # the envelope of the box's corners in zone 32, snapped to 10 m; 1500 DN - 1000
    assert values.shape == (1, 409, 407) and (values == 500).all()
    assert target_epsg(BBox(*LAEA_BOX, crs="EPSG:3035")) == 32632


def test_a_projected_extent_outside_its_crs_is_one_clear_error():
    import pytest

    from hybrid.errors import ProcessParameterInvalid
    from hybrid.grid import BBox, target_epsg

    with pytest.raises(ProcessParameterInvalid, match="no place in lon/lat"):
        target_epsg(BBox(1e12, 1e12, 1e12 + 10, 1e12 + 10, crs="EPSG:32632"))


def test_a_crs_with_no_way_to_lon_lat_is_one_clear_error(tmp_path):
    """An extent in an engineering CRS (no datum pyproj can take to lon/lat) was a bare
    ``ProjError``, a 500 on the emulator; now the 400 of an extent with no place in
    lon/lat, naming the load."""
    import pytest

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import ProcessParameterInvalid

    local = (
        'ENGCRS["site",EDATUM["site"],CS[Cartesian,2],AXIS["x",east,LENGTHUNIT["metre",1]],'
        'AXIS["y",north,LENGTHUNIT["metre",1]]]'
    )
    extent = {"west": 0, "south": 0, "east": 1000, "north": 1000, "crs": local}
    graph = _b04_netcdf(extent)
    with pytest.raises(
        ProcessParameterInvalid, match="cannot be transformed to EPSG:4326"
    ) as caught:
        LocalBackend(LocalSettings()).execute(graph, out_dir=tmp_path / "out")
    assert caught.value.node == "load"
