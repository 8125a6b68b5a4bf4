"""ESA APEx algorithm catalogue, more JSON-only UDPs of ``algorithm_catalog/developmentseed``
over SENTINEL2_L2A (the first ones: test_apex_developmentseed.py, whose helpers these
tests share), run against ``hybrid serve`` as written, changed only in AOI and dates.

Each result is checked against numpy on the raw bands downloaded from the same server:
``first`` over t, reflectance = DN / 10000, then the UDP's formula as read from its
graph (the cloud cover limit of each is its own ``lte(value, N)``, a literal). The
numpy follows Copernicus's cell types, which decide the pixels on a threshold: bands
are float32 in a callback, so are constants of at most 7 significant digits (numpy's
Python floats next to a float32 array), longer ones are float64 and make the result
float64 (``np.float64``) [openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala
``constantArgument`` L934-954, ``xyFunction`` L883-931].
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import raw_bands
from tests.workflows.test_apex_developmentseed import (
    CATALOG_ENV,
    first_resampled,
    first_valid,
    run_udp,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get(CATALOG_ENV),
    reason=f"set {CATALOG_ENV} to a checkout of ESA-APEx/apex_algorithms",
)


def _float32(b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reflectances as a callback holds them: float32 DN / float32 10000."""
    return {k: np.rint(v * 10000.0).astype(np.float32) / np.float32(10000) for k, v in b.items()}


def _ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x - y) / (x + y)``."""
    out: np.ndarray = (x - y) / (x + y)
    return out


def _scaled_255(rgb: np.ndarray) -> np.ndarray:
    """``linear_scale_range(x, 0, 1, 0, 255)`` with integer output bounds: 255 x (in
    double, stored in x's float type) clipped to 0..255, its integer part (Copernicus
    converts the tile to uint16: OpenEOProcessScriptBuilder.scala L1271-1322)."""
    scaled = (rgb.astype(np.float64) * 255.0).astype(rgb.dtype)
    out: np.ndarray = np.trunc(np.clip(scaled, 0.0, 255.0))
    return out


def test_plant_senescence_reflectance_index(connection: Any, tmp_path: Path) -> None:
    """PSRI = (B04 - B02) / B06 where B06 > 0, else 1; then a piecewise linear stretch:
    <= -0.2 -> 0, <= 0.4 -> 1.5431667 (PSRI + 0.2), <= 1 -> 0.9259 + 0.1235 (PSRI -
    0.4), else 1 (a NaN PSRI compares false everywhere: 1)."""
    name = "plant-senescence-reflectance-index"
    got = run_udp(connection, name, tmp_path / "psri.tif")
    b = _float32(first_valid(connection, ["B02", "B04", "B06"], tmp_path / "raw.nc"))
    with np.errstate(all="ignore"):
        psri = np.where(b["B06"] > 0, (b["B04"] - b["B02"]) / b["B06"], 1.0)
        high = np.where(
            (psri > 0.4) & (psri <= 1.0),
            0.9259 + np.float64(0.1235000000000001) * (psri - 0.4),
            1.0,
        )
        middle = np.where(
            (psri > -0.2) & (psri <= 0.4), np.float64(1.5431666666666664) * (psri + 0.2), high
        )
        want = np.where(psri <= -0.2, 0.0, middle)[None]
    assert got.shape == want.shape and len(np.unique(got)) > 10
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_cohen_braaten_yang_cloud_detection(connection: Any, tmp_path: Path) -> None:
    """Cloud where B11 > 0.1, (B03 - 0.175) / 0.215 > 0 and (B03 - B04) / (B03 + B04) > 0:
    half the clipped colours, red plus 5 sqrt of their product; thick cloud (> 1
    instead of > 0): half the clipped colours, blue plus half the excess; else 2.5 times
    the colours; each clipped to 0..1. Cloud cover <= 60 %."""
    got = run_udp(connection, "cohen_braaten_yang_cloud_detection", tmp_path / "cby.tif")
    raw = first_valid(
        connection, ["B02", "B03", "B04", "B11"], tmp_path / "raw.nc", max_cloud_cover=60
    )
    b = _float32(raw)
    red, green, blue = b["B04"], b["B03"], b["B02"]
    with np.errstate(all="ignore"):
        brightness = (green - 0.175) / np.float64(0.21500000000000002)
        ndgr = _ratio(green, red)
        cloud = (b["B11"] > 0.1) & (brightness > 0) & (ndgr > 0)
        thick = (b["B11"] > 0.1) & (brightness > 1)
        half = [0.5 * np.clip(band, 0, 1) for band in (red, green, blue)]
        cloudy = [half[0] + 5 * np.sqrt(brightness * ndgr), half[1], half[2]]
        thick_rgb = [half[0], half[1], half[2] + 0.5 * (brightness - 1)]
        rgb = [
            np.clip(np.where(thick, t, np.where(cloud, c, 2.5 * band)), 0, 1)
            for t, c, band in zip(thick_rgb, cloudy, (red, green, blue), strict=True)
        ]
    want = np.stack(rgb)
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def _hollstein(b: dict[str, np.ndarray]) -> np.ndarray:
    """Hollstein et al.'s decision tree (the UDP's nested ``if``), 2.5 x B04, B03, B02 where
    clear, else the class colour (times B04 * 0 + 1: NaN where B04 is)."""
    one = b["B04"] * 0 + 1
    rgb = np.stack([2.5 * b[band] for band in ("B04", "B03", "B02")])
    shadow, cirrus, cloud, snow = (
        np.stack([one * c for c in colour])
        for colour in ([0.1, 0.1, 0.7], [0.8, 0.1, 0.1], [0.3, 0.3, 1.0], [1.0, 0.8, 0.4])
    )
    with np.errstate(all="ignore"):
        dark = np.where(
            b["B03"] - b["B07"] < 0.027, rgb, np.where(b["B09"] - b["B11"] < 0.021, shadow, rgb)
        )
        bright = np.where(b["B02"] < 0.2, np.where(b["B02"] / b["B09"] < 0.788, rgb, cirrus), rgb)
        low = np.where(b["B8A"] < 0.166, dark, bright)
        thin = np.where(
            b["B11"] < 0.3,
            np.where(b["B06"] - b["B07"] < -0.016, cloud, cirrus),
            np.where(b["B01"] < 0.3, rgb, cloud),
        )
        high = np.where(b["B05"] / b["B11"] < 4.33, thin, np.where(b["B03"] < 0.525, rgb, snow))
        out: np.ndarray = np.where(b["B03"] < 0.319, low, high)
    return out  # fmt: skip


def test_hollstein_cloud_detection(connection: Any, tmp_path: Path) -> None:
    """Ten bands, no cloud filter, ``first`` over t; the tree's ``if`` picks whole
    ``array_create`` colours (three values) per pixel."""
    got = run_udp(connection, "hollstein_cloud_detection", tmp_path / "hollstein.tif")
    bands = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11"]
    raw = first_valid(connection, bands, tmp_path / "raw.nc", max_cloud_cover=None)
    want = _hollstein(_float32(raw))
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def _chlorophyll_ramp(v: np.ndarray) -> np.ndarray:
    """The UDP's blue-green-red ramp of the scaled chlorophyll ``v`` (NaN: 1, NaN, 0)."""
    with np.errstate(all="ignore"):
        red = np.where(v <= 0.75, (v - 0.5) * 4, 1.0)
        red = np.where(v < 0, 0.0, np.where(v > 1, 1.0, np.where(v <= 0.5, 0.0, red)))
        green = np.where(v <= 0.25, v * 4, np.where(v <= 0.75, 1.0, 1 - (v - 0.75) * 4))
        green = np.where((v < 0) | (v > 1), 0.0, green)
        blue = np.where(v <= 0.25, 1.0, np.where(v <= 0.5, 1 - (v - 0.25) * 4, 0.0))
        blue = np.where(v < 0, 1.0, np.where(v > 1, 0.0, blue))
    return np.stack([red, green, blue])


def test_mago_water_quality_chlorophyll(connection: Any, tmp_path: Path) -> None:
    """Indicator 0 (the graph's constant ``eq(0, 0)`` chain): chl-a = 14.039 + 86.11 NDCI
    + 194.325 NDCI^2, NDCI = (B05 - B04) / (B05 + B04), scaled (chl - 6) / 6 into a
    colour ramp where NDWI = (B03 - B08) / (B03 + B08) >= 0, else 3 x B04, B03, B02;
    ``linear_scale_range`` 0-1 -> 0-255, integers. Cloud cover <= 20 %."""
    got = run_udp(connection, "mago_water_quality", tmp_path / "mago.tif")
    bands = ["B02", "B03", "B04", "B05", "B08"]
    b = _float32(first_valid(connection, bands, tmp_path / "raw.nc", max_cloud_cover=20))
    with np.errstate(all="ignore"):
        ndci = _ratio(b["B05"], b["B04"])
        chl = 14.039 + 86.11 * ndci + 194.325 * ndci**2
        ramp = _chlorophyll_ramp((chl - 6) / 6)
        land = np.stack([3 * b[band] for band in ("B04", "B03", "B02")])
        want = _scaled_255(np.where(_ratio(b["B03"], b["B08"]) < 0, land, ramp))
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def _apa(b: dict[str, np.ndarray]) -> np.ndarray:
    """Aquatic plants and algae: 3 x B04, B03, B02 on land and for floating plants, else
    [8.5 FAI, 5.5 NDRE-like, NDWI] with FAI = B08 - (B04 + 0.17722 (B11 - B04))."""
    with np.errstate(all="ignore"):
        rgb = np.stack([3 * b[band] for band in ("B04", "B03", "B02")])
        fai = b["B08"] - (b["B04"] + (b["B11"] - b["B04"]) * np.float64(0.17722052470761768))
        ndwi = _ratio(b["B03"], b["B08"])
        water = np.stack([fai * 8.5, _ratio(b["B05"], b["B04"]) * 5.5, ndwi])
        plants = _ratio(ndwi, _ratio(b["B8A"], b["B11"])) > 0
        chosen = np.where(ndwi < 0, np.where(plants, rgb, water), water)
        bright = (b["B03"] - 0.175) / np.float64(0.21500000000000002)
        cloud = (b["B11"] > 0.1) & (bright > 0) & (_ratio(b["B03"], b["B04"]) > 0)
        chosen = np.where(cloud | ((b["B11"] > 0.1) & (bright > 1)), rgb, chosen)
    return _scaled_255(chosen)


def test_apa_aquatic_plants_algae_at_100_m(connection: Any, tmp_path: Path) -> None:
    """``first`` over t, ``resample_spatial(100, near, upper-left)``, the class tree of
    ``if`` over ``array_create`` colours, ``linear_scale_range`` 0-1 -> 0-255 (integers). The 100 m
    input is the server's own ``first`` + ``resample_spatial`` (as the ndsi test)."""
    got = run_udp(connection, "apa_aquatic_plants_algae", tmp_path / "apa.tif")
    bands = ["B02", "B03", "B04", "B05", "B08", "B8A", "B11"]
    b = _float32(first_resampled(connection, bands, tmp_path / "raw.nc", 100, max_cloud_cover=30))
    want = _apa(b)
    assert got.shape == want.shape and np.isfinite(got).all()
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_monthly_composite_of_the_greenest_date(connection: Any, tmp_path: Path) -> None:
    """Per date: SCL 3, 8, 9, 10, 11 masked, colours 2.8 B04 + 0.1 B05, 2.8 B03 + 0.15
    B08, 2.8 B02 and the ratio B08 / B03; ``apply_dimension`` over t with ``array_apply``
    whose callback reads the enclosing ``data`` (``neq(x, max(data))``) masks every date
    but the one of the greatest ratio; ``max`` over t. Cloud cover <= 90 %."""
    got = run_udp(connection, "monthly_composite", tmp_path / "monthly.tif")
    bands = ["B02", "B03", "B04", "B05", "B08", "SCL"]
    raw = raw_bands(connection, bands, tmp_path / "raw.nc", max_cloud_cover=90)
    v = {band: raw[band].values.astype(np.float64) for band in bands}
    clear = ~np.isin(v["SCL"], [3, 8, 9, 10, 11])
    s = {band: np.where(clear, v[band] / 10000.0, np.nan) for band in bands[:-1]}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN maxima
        ratio = s["B08"] / s["B03"]
        greenest = ratio == np.nanmax(ratio, axis=0)
        rgb = [
            2.8 * s["B04"] + 0.1 * s["B05"], 2.8 * s["B03"] + 0.15 * s["B08"], 2.8 * s["B02"]
        ]  # fmt: skip
        want = np.stack([np.nanmax(np.where(greenest, c, np.nan), axis=0) for c in rgb])
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def _evaluate(graph: dict[str, Any], data: list[np.ndarray]) -> np.ndarray:
    """A callback's graph of plain arithmetic evaluated in float64 numpy, node by node
    from its result (``array_element`` of ``data``, add, subtract, multiply, divide,
    tanh, cos, pi): independent of the engine."""
    binary = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
              "divide": np.divide}  # fmt: skip
    unary = {"tanh": np.tanh, "cos": np.cos}
    done: dict[str, Any] = {}

    def value(argument: Any) -> Any:
        if isinstance(argument, dict):
            return node(argument["from_node"])
        return float(argument)

    def node(name: str) -> Any:
        if name not in done:
            process, arguments = graph[name]["process_id"], graph[name]["arguments"]
            if process == "array_element":
                done[name] = data[arguments["index"]]
            elif process == "pi":
                done[name] = np.pi
            elif process in unary:
                done[name] = unary[process](value(arguments["x"]))
            else:
                done[name] = binary[process](value(arguments["x"]), value(arguments["y"]))
        return done[name]

    return np.asarray(node(next(k for k, v in graph.items() if v.get("result"))))


@pytest.mark.parametrize(("name", "dtype"), [("fapar", "float64"), ("leaf_area_index", "float32")])
def test_biophysical_neural_network_of_angles_and_bands(
    connection: Any, tmp_path: Path, name: str, dtype: str
) -> None:
    """fapar and leaf_area_index: the first value over t of eight bands and the four
    angle bands, an ``apply_dimension`` over bands holding a small neural network in
    about 200 arithmetic nodes (tanh, cos of angles in radians via ``pi``), GTiff. The
    reference evaluates the published graph in numpy on the raw bands of the same
    server. fapar ends in ``add`` of a 12-digit constant, so its result is float64 as
    Copernicus types it; leaf_area_index ends in ``divide``: float32."""
    import json

    import rasterio

    from tests.workflows.test_apex_developmentseed import udp_json

    udp = json.loads(udp_json(name))
    load = udp["process_graph"]["loadcollection1"]["arguments"]
    callback = udp["process_graph"]["applydimension1"]["arguments"]["process"]["process_graph"]
    with warnings.catch_warnings():  # 'pi' in the callback: Copernicus's builder may refuse
        warnings.simplefilter("ignore")
        got = run_udp(connection, name, tmp_path / f"{name}.tif")
    with rasterio.open(tmp_path / f"{name}.tif") as written:
        assert written.dtypes[0] == dtype
    raw = raw_bands(connection, load["bands"], tmp_path / "raw.nc", max_cloud_cover=30)
    first = []
    for band in load["bands"]:
        values = raw[band].values.astype(np.float64)
        index = np.isfinite(values).argmax(axis=0)[None]
        first.append(np.take_along_axis(values, index, axis=0)[0])
    want = _evaluate(callback, first)[None]
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    assert np.nanstd(want) > 0.01  # the pixels differ: a wrong band order would show
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
