"""ESA APEx algorithm catalogue, the JSON-only UDPs of ``algorithm_catalog/developmentseed``
(no generate.py: the ``openeo_udp/*.json`` is the algorithm) over SENTINEL2_L2A, run
against ``hybrid serve`` as written, changed only in AOI and dates: read with the
client's ``datacube_from_json`` or stored with ``save_user_defined_process`` and called.

Each result is checked against numpy on the raw bands downloaded from the same server:
``first`` over t (the first valid value of each pixel), reflectance = DN / 10000, then
the UDP's band formula. The UDPs are read from a checkout of ESA-APEx/apex_algorithms
named by ``HYBRID_APEX_ALGORITHMS`` (skipped without one).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, DATES, raw_bands, read_tiff

#: a checkout (or a bare git directory) of ESA-APEx/apex_algorithms: the UDPs are read
#: from it as published, not copied into this project; the tests skip without it
CATALOG_ENV = "HYBRID_APEX_ALGORITHMS"
_PARAMETERS = {"bounding_box": BBOX, "time": DATES}
pytestmark = pytest.mark.skipif(
    not os.environ.get(CATALOG_ENV),
    reason=f"set {CATALOG_ENV} to a checkout of ESA-APEx/apex_algorithms",
)


def catalogue_json(relative: str) -> str:
    """The text of ``relative`` (e.g. ``algorithm_catalog/vito/ppi/openeo_udp/ppi.json``)
    in the checkout, or bare git directory, named by ``HYBRID_APEX_ALGORITHMS``."""
    return published_text(CATALOG_ENV, relative, "ESA-APEx/apex_algorithms")


def udp_json(name: str, owner: str = "developmentseed") -> str:
    """The JSON text of ``algorithm_catalog/<owner>/<name>/openeo_udp/<name>.json``."""
    return catalogue_json(f"algorithm_catalog/{owner}/{name}/openeo_udp/{name}.json")


def first_valid(
    connection: Any, bands: list[str], path: Path, **load: Any
) -> dict[str, np.ndarray]:
    """Each band's first valid value over t, as reflectance (DN / 10000); cloud cover
    <= 30 % unless ``load`` says otherwise."""
    raw = raw_bands(connection, bands, path, **{"max_cloud_cover": 30, **load})
    out = {}
    for band in bands:
        values = raw[band].values.astype(np.float64)
        valid = np.isfinite(values)
        first = np.take_along_axis(values, valid.argmax(axis=0)[None], axis=0)[0]
        out[band] = first / 10000.0
    return out


def first_resampled(
    connection: Any, bands: list[str], path: Path, resolution: float, **load: Any
) -> dict[str, np.ndarray]:
    """Each band's ``first`` over t, ``resample_spatial(resolution, near)`` as the server
    computes them (resampling is checked elsewhere), as reflectance (DN / 10000); cloud
    cover <= 30 % unless ``load`` says otherwise."""
    loaded = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=bands,
        **{"max_cloud_cover": 30, **load},
    )  # fmt: skip
    cube = loaded.reduce_dimension("t", reducer="first")
    cube.resample_spatial(resolution, method="near").download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return {band: ds[band].values.astype(np.float64) / 10000.0 for band in bands}


def run_udp(connection: Any, name: str, path: Path, owner: str = "developmentseed") -> np.ndarray:
    text = udp_json(name, owner)
    # bais2 names its parameters bbox and temporal_extent
    names = {p["name"] for p in json.loads(text).get("parameters", [])}
    spatial = "bbox" if "bbox" in names else "bounding_box"
    temporal = "temporal_extent" if "temporal_extent" in names else "time"
    # a new dict: the client adds the defaults of the parameters to the one it gets
    parameters = {spatial: _PARAMETERS["bounding_box"], temporal: _PARAMETERS["time"]}
    cube = connection.datacube_from_json(text, parameters=parameters)
    connection.download(cube.flat_graph(), path)
    return read_tiff(path)


def _arvi(b: dict[str, np.ndarray]) -> list[np.ndarray]:
    """atmospheric_resistant_vegetation_index: (B8A - RB) / (B8A + RB), RB = R - 0.106 (B - R)."""
    nir, red, blue = b["B8A"], b["B04"], b["B02"]
    gamma = 0.106 * (red - blue)
    return [((nir - red) - gamma) / ((nir + red) - gamma)]


def _barren_soil(b: dict[str, np.ndarray]) -> list[np.ndarray]:
    """barren_soil: 2.5 * ((B11 + B04) - (B08 + B02)) / ((B11 + B04) + (B08 + B02)), B08, B11."""
    soil, plants = b["B11"] + b["B04"], b["B08"] + b["B02"]
    return [2.5 * (soil - plants) / (soil + plants), b["B08"], b["B11"]]


def _wildfire(b: dict[str, np.ndarray]) -> list[np.ndarray]:
    """wildfire_visualization: sqrt of B04, B03, B02, the first two + 0.3 where
    (B08 - B12) / (B08 + B12) < -0.25 (burnt); the array_create's elements by index."""
    burnt = (b["B08"] - b["B12"]) / (b["B08"] + b["B12"]) < -0.25
    red, green, blue = (np.sqrt(b[band]) for band in ("B04", "B03", "B02"))
    return [np.where(burnt, red + 0.3, red), np.where(burnt, green + 0.3, green), blue]


@pytest.mark.parametrize(
    ("name", "bands", "formula"),
    [
        ("atmospheric_resistant_vegetation_index", ["B02", "B04", "B8A"], _arvi),
        ("barren_soil", ["B02", "B04", "B08", "B11"], _barren_soil),
        ("wildfire_visualization", ["B02", "B03", "B04", "B08", "B11", "B12"], _wildfire),
    ],
)
def test_developmentseed_band_formula_udp(
    connection: Any, tmp_path: Path, name: str, bands: list[str], formula: Any
) -> None:
    """``reduce_dimension(first)`` over t, ``apply(x / 10000)`` or the division in the
    formula, ``apply_dimension`` over bands returning ``array_create`` (wildfire: an
    ``array_element`` of an ``array_create`` built in the callback, its values first),
    GTiff. Cloud cover <= 30 % as the UDPs write it."""
    got = run_udp(connection, name, tmp_path / f"{name}.tif")
    with np.errstate(all="ignore"):
        want = np.stack(formula(first_valid(connection, bands, tmp_path / "raw.nc")))
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.5
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_a_cloud_cover_parameter_udp_runs_stored_not_from_json(
    connection: Any, tmp_path: Path
) -> None:
    """ndci_cyanobacteria reads ``cloud_cover`` in its property filter; the client does not
    fill parameters inside callbacks, so its ``datacube_from_json`` graph still reads the
    parameter: one 400, as Copernicus answers "Unknown parameter" (python-driver
    filter_properties.py L42-46). Stored and called, the parameter's default applies."""
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as info:
        run_udp(connection, "ndci_cyanobacteria", tmp_path / "x.png")
    assert info.value.code == "ProcessParameterInvalid" and "'cloud_cover'" in info.value.message
    udp = json.loads(udp_json("ndci_cyanobacteria"))
    connection.save_user_defined_process(
        "ndci_cyanobacteria", udp["process_graph"], parameters=udp["parameters"]
    )
    cube = connection.datacube_from_process("ndci_cyanobacteria", **_PARAMETERS)
    connection.download(cube.flat_graph(), tmp_path / "ndci.png")
    rgb = read_tiff(tmp_path / "ndci.png")
    arvi = run_udp(connection, "atmospheric_resistant_vegetation_index", tmp_path / "a.tif")
    assert rgb.shape == (3, *arvi.shape[1:]) and 0 <= np.nanmin(rgb) < np.nanmax(rgb) <= 255


def _palette(graph: dict[str, Any], start: str) -> tuple[list[Any], Any]:
    """The colour chain of an apply_dimension callback as the UDP writes it, from its
    outermost ``if``: (test, operand node, constant, colour) per step, then the colour
    of the last reject. Colours are lists or ``array_create`` nodes of numbers."""

    def colour(arg: Any) -> Any:
        made = isinstance(arg, dict) and graph[arg["from_node"]]["process_id"] == "array_create"
        return graph[arg["from_node"]]["arguments"]["data"] if made else arg

    steps, node = [], graph[start]
    while True:
        test = graph[node["arguments"]["value"]["from_node"]]
        arguments = test["arguments"]
        accept = colour(node["arguments"]["accept"])
        steps.append((test["process_id"], arguments["x"]["from_node"], arguments["y"], accept))
        reject = node["arguments"]["reject"]
        if not isinstance(reject, dict) or graph[reject["from_node"]]["process_id"] != "if":
            return steps, colour(reject)
        node = graph[reject["from_node"]]


def _painted(name: str, operands: dict[str, np.ndarray]) -> np.ndarray:
    """The UDP's colour chain evaluated in numpy on ``operands`` (node name -> values):
    the first test that holds picks the colour; a comparison with NaN does not hold, as
    on Copernicus (geotrellis comparisons on nodata cells are false)."""
    process = json.loads(udp_json(name))["process_graph"]["applydimension1"]["arguments"]["process"]
    graph = process["process_graph"]
    result = next(key for key, node in graph.items() if node.get("result"))
    if graph[result]["process_id"] == "array_create":  # array_create(data=<the if>)
        result = graph[result]["arguments"]["data"]["from_node"]
    steps, default = _palette(graph, result)
    tests = {"lt": np.less, "eq": np.equal}
    shape = next(iter(operands.values())).shape
    out = np.broadcast_to(np.asarray(default, float)[:, None, None], (3, *shape))
    for test, operand, constant, colour in reversed(steps):
        holds = tests[test](operands[operand], constant)[None]
        out = np.where(holds, np.asarray(colour, float)[:, None, None], out)
    return out


def test_enhanced_vegetation_index_colour_chain(connection: Any, tmp_path: Path) -> None:
    """EVI = 2.4 (B08 - B04) / (B08 + B04 + 1) on the first valid values over t / 10000,
    then 20 nested ``if(lt(evi, c), [r, g, b], ...)`` with constant lists as colours,
    wrapped in ``array_create(data=<the if>)``: three bands per pixel."""
    got = run_udp(connection, "enhanced_vegetation_index", tmp_path / "evi.tif")
    b = first_valid(connection, ["B08", "B04"], tmp_path / "raw.nc")
    with np.errstate(all="ignore"):
        evi = 2.4 * (b["B08"] - b["B04"]) / (b["B08"] + b["B04"] + 1.0)
    want = _painted("enhanced_vegetation_index", {"divide2": evi})
    assert got.shape == want.shape and len(np.unique(got[1])) > 3
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_kernel_ndvi_colour_chain(connection: Any, tmp_path: Path) -> None:
    """kNDVI = tanh(NDVI^2) where SCL is 4 or 5 (else null), coloured by 20 nested
    ``if(lt(kndvi, c), array_create([...]), ...)``, with an SCL class colour first
    (``if(eq(SCL, k), ...)``, k = 0..11 but 4, 5); a null kNDVI is no ``lt``."""
    got = run_udp(connection, "kernel_ndvi", tmp_path / "kndvi.tif")
    b = first_valid(connection, ["B04", "B08", "SCL"], tmp_path / "raw.nc")
    scl = np.rint(b["SCL"] * 10000.0)
    with np.errstate(all="ignore"):
        kndvi = np.tanh(((b["B08"] - b["B04"]) / (b["B08"] + b["B04"])) ** 2)
    operands = {"if1": np.where(np.isin(scl, [4, 5]), kndvi, np.nan), "arrayelement4": scl}
    want = _painted("kernel_ndvi", operands)
    assert got.shape == want.shape and len(np.unique(got[0])) > 3
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_cloudless_mosaic_median_of_clear_else_cloudy(connection: Any, tmp_path: Path) -> None:
    """Two branches over every scene (no cloud filter): 5 B / 10000 of B04, B03, B02
    where the three are > 0, negated where SCL is 0, 1, 3, 8, 9, 10 or 11, else null;
    ``median`` over t each, ``merge_cubes`` with ``max([x, y])``, ``absolute``: the
    median of the clear dates, else of the cloudy ones."""
    got = run_udp(connection, "cloudless_mosaic", tmp_path / "mosaic.tif")
    bands = ["B02", "B03", "B04", "SCL"]
    raw = raw_bands(connection, bands, tmp_path / "raw.nc")
    values = {band: raw[band].values.astype(np.float64) for band in bands}
    shown = (values["B02"] > 0) & (values["B03"] > 0) & (values["B04"] > 0)
    cloudy = np.isin(values["SCL"], [0, 1, 3, 8, 9, 10, 11])
    want = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN medians
        for band in ("B04", "B03", "B02"):
            scaled = 5.0 * values[band] / 10000.0
            clear = np.nanmedian(np.where(shown & ~cloudy, scaled, np.nan), axis=0)
            dark = np.nanmedian(np.where(shown & cloudy, -scaled, np.nan), axis=0)
            want.append(np.abs(np.fmax(clear, dark)))
    assert got.shape == (3, *want[0].shape) and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, np.stack(want).astype(np.float32), rtol=1e-6)


def test_ndsi_snow_map_at_60_m(connection: Any, tmp_path: Path) -> None:
    """``first`` over t, ``resample_spatial(60, near)``, then NDSI = (B03 - B11) /
    (B03 + B11) of DN / 10000: snow (> 0.42) is [0, 0.8, 1], else 2.5 (B04, B03, B02);
    ``linear_scale_range`` 0-1 -> 0-255 (clipped, integer part). The 60 m input is the server's own
    ``first`` + ``resample_spatial`` (resampling is checked elsewhere); no save_result."""
    got = run_udp(connection, "ndsi", tmp_path / "ndsi.tif")
    b = first_resampled(connection, ["B02", "B03", "B04", "B11"], tmp_path / "raw60.nc", 60)
    with np.errstate(all="ignore"):
        snow = (b["B03"] - b["B11"]) / (b["B03"] + b["B11"]) > 0.42
    rgb = [np.where(snow, c, 2.5 * b[band]) for c, band in ((0, "B04"), (0.8, "B03"), (1, "B02"))]
    # integer output bounds: the integer part (Copernicus converts the tile to uint16,
    # OpenEOProcessScriptBuilder.scala linearScaleRangeFunction L1271-1322)
    want = np.trunc(np.clip(np.stack(rgb) * 255.0, 0.0, 255.0))
    assert got.shape == want.shape and np.isfinite(got).all()
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_bais2_burn_index_png_of_the_first_date(connection: Any, tmp_path: Path) -> None:
    """BAIS2 = (1 - sqrt(B06 B07 B8A / B04)) ((B12 - B8A) / sqrt(B12 + B8A) + 1), per date
    (no reduction over t, no cloud filter), a colour ramp: < 0 white, < 0.5 blue to
    yellow, <= 0.99 yellow to red, else magenta, each ``array_create`` of the three
    values; ``linear_scale_range`` 0-1 -> 0-255, PNG: the first date, integer part."""
    got = run_udp(connection, "bais2", tmp_path / "bais2.png")
    bands = ["B04", "B06", "B07", "B8A", "B12"]
    raw = raw_bands(connection, bands, tmp_path / "raw.nc").sortby("y", ascending=False)
    s = {band: raw[band].values[0].astype(np.float64) / 10000.0 for band in bands}
    with np.errstate(all="ignore"):
        burn = 1 - np.sqrt(s["B06"] * s["B07"] * s["B8A"] / s["B04"])
        bais = (burn * ((s["B12"] - s["B8A"]) / np.sqrt(s["B12"] + s["B8A"]) + 1))[..., None]
    low, zero = np.array([0.0, 0.0, 1.0]), np.array([0.9803921569, 1.0, 0.0392156863])
    high, over = np.array([1.0, 0.0784313725, 0.0784313725]), np.array([1.0, 0.0, 1.0])
    ramp = np.where(bais <= 0.99, zero + (high - zero) * (bais - 0.5) / 0.49, over)
    ramp = np.where(bais < 0.5, low + (zero - low) * bais / 0.5, ramp)
    rgb = np.moveaxis(np.where(bais < 0, 1.0, ramp), -1, 0)
    want = np.trunc(np.nan_to_num(np.clip(rgb, 0.0, 1.0) * 255.0, nan=0.0))
    assert got.shape == want.shape and len(np.unique(got)) > 10
    np.testing.assert_array_equal(got, want)
