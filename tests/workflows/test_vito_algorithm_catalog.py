"""VITObelgium/openeo_algorithm_catalog: the Sentinel-2 index UDPs of the CDSE
marketplace (``{evi,msi,ndii,ndwi,savi,nbr}/openeo_udp/generate_udp_pg.py``), built by
their scripts' client calls, stored, and called as each ``bechmark_scenario/example.ipynb``
calls it (``datacube_from_process`` with a GeoJSON ``Polygon`` and one day,
``create_job``, ``start_and_wait``, ``get_results().download_files``), against
``hybrid serve``; changed only in connection, AOI and date (the namespace URL of the
scenario is the stored process). Each GeoTIFF is checked against numpy on the bands
downloaded from the same server, masked by ``to_scl_dilation_mask`` with its defaults.

The six scripts are one script with other bands and another formula; their calls are
written out once here, the bands and formulas as published.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, dilation_masks, pixels_inside, raw_bands, read_tiff

#: a partly clouded day (the dilation masks about 44 % of the field)
DAY = "2023-07-07"
_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
#: the scenarios' AOI is a pentagon; this one spans the whole field's box
AOI = {
    "type": "Polygon",
    "coordinates": [[[_W, _N], [_W + 0.0006, _S], [_E, _S + 0.003], [_E - 0.001, _N], [_W, _N]]],
}


def _evi(cube: Any) -> Any:
    blue = cube.band(0)
    red = cube.band(1)
    nir = cube.band(2)
    G = 2.5
    C1 = 6.0
    C2 = 7.5
    L = 1
    return G * ((nir - red) / (nir + C1 * red - C2 * blue + L))


def _msi(cube: Any) -> Any:
    b08 = cube.band(0)
    b11 = cube.band(1)
    return b11 / b08


def _normalized(cube: Any) -> Any:  # ndii (B8A, B11), ndwi (B08, B12), nbr (B08, B12)
    first = cube.band(0)
    second = cube.band(1)
    return (first - second) / (first + second)


def _savi(cube: Any) -> Any:
    red = cube.band(0)
    nir = cube.band(1)
    L = 0.5  # soil brightness correction factor could range from (0 -1)
    return (nir - red) / (nir + red + L) * (1.0 + L)


#: per algorithm: its bands and its formula as the script writes them
ALGORITHMS: dict[str, tuple[list[str], Callable[[Any], Any]]] = {
    "evi": (["B02", "B04", "B08"], _evi),
    "msi": (["B08", "B11"], _msi),
    "ndii": (["B8A", "B11"], _normalized),
    "ndwi": (["B08", "B12"], _normalized),
    "savi": (["B04", "B08"], _savi),
    "nbr": (["B08", "B12"], _normalized),
}


def _generate(connection: Any, name: str) -> dict[str, Any]:
    """``generate()`` of ``<name>/openeo_udp/generate_udp_pg.py``, on ``connection``."""
    from openeo.api.process import Parameter
    from openeo.rest.udp import build_process_dict

    bands, formula = ALGORITHMS[name]
    spatial_extent = Parameter.spatial_extent(
        name="spatial_extent",
        description="Limits the data to process to the specified bounding box or polygons.",
    )
    temporal_extent = Parameter.temporal_interval(
        name="temporal_extent",
        description="Temporal extent specified as two-element array with start and end "
        "date/date-time.",
    )
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=temporal_extent,
        spatial_extent=spatial_extent,
        bands=bands,
    )
    scl = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=temporal_extent,
        spatial_extent=spatial_extent,
        bands=["SCL"],
    )
    mask = scl.process("to_scl_dilation_mask", data=scl)
    cube = cube.mask(mask=mask)
    result: dict[str, Any] = build_process_dict(
        process_graph=formula(cube),
        process_id=name,
        description=f"{name} of the openeo_algorithm_catalog",
        parameters=[spatial_extent, temporal_extent],
    )
    return result


def _reference(name: str, raw: Any) -> np.ndarray:
    """The formula in float32 (Copernicus divides int16 tiles into float32 ones)."""
    bands, _ = ALGORITHMS[name]
    v = [raw[b].values.astype(np.float32) for b in bands]
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = {
            "evi": lambda: 2.5 * ((v[2] - v[1]) / (v[2] + 6.0 * v[1] - 7.5 * v[0] + 1)),
            "msi": lambda: v[1] / v[0],
            "savi": lambda: (v[1] - v[0]) / (v[1] + v[0] + 0.5) * 1.5,
        }.get(name, lambda: (v[0] - v[1]) / (v[0] + v[1]))()
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_catalogue_index_udps_run_as_their_benchmark_scenarios(
    connection: Any, tmp_path: Path
) -> None:
    """Each UDP stored, then run as its scenario: the polygon reduced to its box (the
    pixels outside the pentagon keep their values, as Copernicus masks nothing,
    geopyspark-driver #768), the SCL dilation mask with kernel2_size 201 applied to every
    band, ``band(0)``/``band(1)`` by position, one GeoTIFF for the one day."""
    date = [DAY, DAY]
    raw = raw_bands(
        connection, ["B02", "B04", "B08", "B8A", "B11", "B12"], tmp_path / "raw.nc", dates=date
    )
    cloudy = dilation_masks(connection, tmp_path / "scl.nc", raw, date, kernels=(17, 201, 0))
    assert 0.2 < float(cloudy.values.mean()) < 0.8
    outside = ~pixels_inside(raw, AOI)
    assert outside.mean() > 0.2 and (outside & ~cloudy.values[0]).sum() > 100
    for name in ALGORITHMS:
        udp = _generate(connection, name)
        connection.save_user_defined_process(
            name, udp["process_graph"], parameters=udp["parameters"]
        )
        cube = connection.datacube_from_process(name, temporal_extent=date, spatial_extent=AOI)
        job = cube.create_job(title=f"{name.upper()}_example")
        job.start_and_wait()
        paths = job.get_results().download_files(tmp_path / "output" / name)
        assert sorted(p.name for p in paths) == ["job-results.json", f"openEO_{DAY}Z.tif"]
        got = read_tiff(tmp_path / "output" / name / f"openEO_{DAY}Z.tif")
        want = np.where(cloudy.values, np.nan, _reference(name, raw))
        assert got.shape == want.shape == (1, *outside.shape), name
        np.testing.assert_allclose(got, want, rtol=2e-6, err_msg=name)
