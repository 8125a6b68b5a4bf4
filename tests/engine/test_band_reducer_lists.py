"""A band reducer may hand a reducer a list of its own values and numbers: the openEO
API's EVI example (Open-EO/openeo-api ``assets/pg-evi-example.json``, also
openeo-geopyspark-driver ``docs/examples/evi.json``) sums ``[1, nir, 6 * red, -7.5 * blue]``.
Copernicus builds the list tile by tile (openeo-geotrellis-extensions
OpenEOProcessScriptBuilder.scala ``constantArrayElement`` L1030-1036 makes a constant
tile of a number, ``arrayEnd`` L1038) and reduces it with ``Add``/``Max``/... (L1141-1150)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.server_helpers import SEED_BBOX

pytestmark = pytest.mark.slow

N = {"from_node": "nir"}
R = {"from_node": "red"}


def _graph(reducer: dict[str, Any]) -> dict[str, Any]:
    element = {"process_id": "array_element", "arguments": {"data": {"from_parameter": "data"}}}
    nodes = {
        "nir": {**element, "arguments": {**element["arguments"], "label": "B08"}},
        "red": {**element, "arguments": {**element["arguments"], "label": "B04"}},
        **reducer,
    }
    return {
        "dc": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": SEED_BBOX,
                "temporal_extent": ["2023-06-01", "2023-06-10"],
                "bands": ["B04", "B08"],
            },
        },
        "r": {
            "process_id": "reduce_dimension",
            "arguments": {
                "data": {"from_node": "dc"},
                "dimension": "bands",
                "reducer": {"process_graph": nodes},
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "r"}, "format": "netCDF"},
            "result": True,
        },
    }


def _run(graph: dict[str, Any], out_dir: Path, sample_catalog: Path) -> Any:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.io.reader import open_result

    result = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(graph, out_dir=out_dir)
    (path,) = result.files
    return open_result(path)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Any:
    """The two bands as loaded."""
    graph = {
        "dc": _graph({})["dc"],
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "dc"}, "format": "netCDF"},
            "result": True,
        },
    }
    return _run(graph, tmp_path_factory.mktemp("raw"), sample_catalog)


@pytest.mark.parametrize(
    ("process_id", "data", "expected"),
    [
        ("sum", [1, N], lambda red, nir: 1 + nir),
        ("sum", [N, 1, R], lambda red, nir: nir + 1 + red),
        ("max", [R, N], np.maximum),
        ("mean", [2, N], lambda red, nir: (2 + nir) / 2),
    ],
)
def test_a_band_reducer_reduces_a_list_of_bands_and_numbers(
    tmp_path: Path,
    sample_catalog: Path,
    raw: Any,
    process_id: str,
    data: list[Any],
    expected: Any,
) -> None:
    reducer = {"s": {"process_id": process_id, "arguments": {"data": data}, "result": True}}
    out = _run(_graph(reducer), tmp_path / "out", sample_catalog)
    red, nir = (raw.sel(bands=b).values.astype(np.float64) for b in ("B04", "B08"))
    got = np.asarray(out.values, dtype=np.float64).reshape(red.shape)
    valid = np.isfinite(red) & np.isfinite(nir)
    assert valid.any()
    np.testing.assert_allclose(got[valid], expected(red, nir)[valid], rtol=1e-6)


def test_apply_dimension_over_bands_reduces_a_list_of_bands_per_pixel(
    tmp_path: Path, sample_catalog: Path, raw: Any
) -> None:
    """``array_create([max([b0, b1]), b0])`` in apply_dimension over bands: one value per
    pixel and member (Copernicus: ``Max`` of the two tiles, then a two-tile array)."""
    graph = _graph({})
    del graph["r"]
    graph["a"] = {
        "process_id": "apply_dimension",
        "arguments": {
            "data": {"from_node": "dc"},
            "dimension": "bands",
            "process": {
                "process_graph": {
                    "b0": {
                        "process_id": "array_element",
                        "arguments": {"data": {"from_parameter": "data"}, "index": 0},
                    },
                    "b1": {
                        "process_id": "array_element",
                        "arguments": {"data": {"from_parameter": "data"}, "index": 1},
                    },
                    "m": {
                        "process_id": "max",
                        "arguments": {"data": [{"from_node": "b0"}, {"from_node": "b1"}]},
                    },
                    "ac": {
                        "process_id": "array_create",
                        "arguments": {"data": [{"from_node": "m"}, {"from_node": "b0"}]},
                        "result": True,
                    },
                }
            },
        },
    }
    graph["save"]["arguments"]["data"] = {"from_node": "a"}
    out = _run(graph, tmp_path / "out", sample_catalog)
    red, nir = (raw.sel(bands=b).values.astype(np.float64) for b in ("B04", "B08"))
    valid = np.isfinite(red) & np.isfinite(nir)
    assert valid.any()
    first, second = (out.isel(bands=i).values.astype(np.float64) for i in (0, 1))
    np.testing.assert_array_equal(first[valid], np.maximum(red, nir)[valid])
    np.testing.assert_array_equal(second[valid], red[valid])
