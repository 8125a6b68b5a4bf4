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
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, DATES, raw_bands, read_tiff

#: a checkout (or a bare git directory) of ESA-APEx/apex_algorithms: the UDPs are read
#: from it as published, not copied into this project; the tests skip without it
CATALOG_ENV = "HYBRID_APEX_ALGORITHMS"
_PARAMETERS = {"bounding_box": BBOX, "time": DATES}
pytestmark = pytest.mark.skipif(
    not os.environ.get(CATALOG_ENV),
    reason=f"set {CATALOG_ENV} to a checkout of ESA-APEx/apex_algorithms",
)


def _udp(name: str) -> str:
    """The JSON text of ``algorithm_catalog/developmentseed/<name>/openeo_udp/<name>.json``."""
    root = os.environ.get(CATALOG_ENV)
    if not root:
        pytest.skip(f"set {CATALOG_ENV} to a checkout of ESA-APEx/apex_algorithms")
    relative = f"algorithm_catalog/developmentseed/{name}/openeo_udp/{name}.json"
    if (Path(root) / relative).is_file():
        return (Path(root) / relative).read_text(encoding="utf-8")
    try:
        shown = subprocess.run(
            ["git", f"--git-dir={root}", "show", f"HEAD:{relative}"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"{CATALOG_ENV}={root} holds no {relative}")
    return shown.stdout


def _first(connection: Any, bands: list[str], path: Path) -> dict[str, np.ndarray]:
    """Each band's first valid value over t, as reflectance (DN / 10000)."""
    raw = raw_bands(connection, bands, path, max_cloud_cover=30)
    out = {}
    for band in bands:
        values = raw[band].values.astype(np.float64)
        valid = np.isfinite(values)
        first = np.take_along_axis(values, valid.argmax(axis=0)[None], axis=0)[0]
        out[band] = first / 10000.0
    return out


def _run(connection: Any, name: str, path: Path) -> np.ndarray:
    # a copy: the client adds the defaults of the parameters to the dict it gets
    cube = connection.datacube_from_json(_udp(name), parameters=dict(_PARAMETERS))
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
    got = _run(connection, name, tmp_path / f"{name}.tif")
    with np.errstate(all="ignore"):
        want = np.stack(formula(_first(connection, bands, tmp_path / "raw.nc")))
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
        _run(connection, "ndci_cyanobacteria", tmp_path / "x.png")
    assert info.value.code == "ProcessParameterInvalid" and "'cloud_cover'" in info.value.message
    udp = json.loads(_udp("ndci_cyanobacteria"))
    connection.save_user_defined_process(
        "ndci_cyanobacteria", udp["process_graph"], parameters=udp["parameters"]
    )
    cube = connection.datacube_from_process("ndci_cyanobacteria", **_PARAMETERS)
    connection.download(cube.flat_graph(), tmp_path / "ndci.png")
    rgb = read_tiff(tmp_path / "ndci.png")
    arvi = _run(connection, "atmospheric_resistant_vegetation_index", tmp_path / "a.tif")
    assert rgb.shape == (3, *arvi.shape[1:]) and 0 <= np.nanmin(rgb) < np.nanmax(rgb) <= 255
