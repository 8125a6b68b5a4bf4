"""filter_labels where Copernicus applies it: the one nearest the load, in the load
(``backends/local/label_pushdown.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid.backends.local.label_pushdown import IN_LOAD, push_down
from hybrid.errors import HybridWarning


def _node(process_id: str, data: str | None = None, **arguments: Any) -> dict[str, Any]:
    if data is not None:
        arguments["data"] = {"from_node": data}
    return {"process_id": process_id, "arguments": arguments}


def _labels(data: str, dimension: str = "t") -> dict[str, Any]:
    condition = {"process_graph": {"c": {"process_id": "date_between", "arguments": {}}}}
    return _node("filter_labels", data, condition=condition, dimension=dimension)


def test_a_filter_after_other_processes_moves_into_the_load() -> None:
    graph = {
        "load": _node("load_collection", id="S"),
        "ndvi": _node("ndvi", "load"),
        "month": _node("aggregate_temporal_period", "ndvi", period="month"),
        "f": _labels("month"),
        "save": _node("save_result", "f", format="netCDF"),
    }
    out = push_down(graph)
    assert out["f"]["arguments"][IN_LOAD] is True
    assert out["ndvi"]["arguments"]["data"] == {"from_node": "load_read_filtered"}
    copied = out["load_read_filtered"]
    assert copied["arguments"]["data"] == {"from_node": "load"}
    assert IN_LOAD not in copied["arguments"]
    assert copied["arguments"]["condition"] == graph["f"]["arguments"]["condition"]
    assert out["month"] == graph["month"]


def test_a_filter_on_the_load_stays_and_only_the_nearest_counts() -> None:
    graph = {
        "load": _node("load_collection", id="S"),
        "f1": _labels("load"),
        "ndvi": _node("ndvi", "f1"),
        "f2": _labels("ndvi"),
        "save": _node("save_result", "f2", format="netCDF"),
    }
    with pytest.warns(HybridWarning, match="filter_labels 'f2' is ignored.*nearest the load.*f1"):
        out = push_down(graph)
    assert out["f1"] == graph["f1"]
    assert out["f2"]["arguments"][IN_LOAD] is True  # ignored there: f1 is nearer the load
    assert set(out) == set(graph)


def test_other_paths_of_the_load_and_other_dimensions_keep_their_reads() -> None:
    graph = {
        "load": _node("load_collection", id="S"),
        "ndvi": _node("ndvi", "load"),
        "f": _labels("ndvi"),
        "other": _node("reduce_dimension", "load", dimension="t"),
        "bands": _labels("load", dimension="bands"),
    }
    out = push_down(graph)
    assert out["other"] == graph["other"]
    assert out["bands"] == graph["bands"]
    assert out["ndvi"]["arguments"]["data"] == {"from_node": "load_read_filtered"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("bounds", "kept"),
    [
        # June 7's scene was sensed at 10:37: after an inclusive max at midnight
        (("2023-06-01T00:00:00Z", "2023-06-07T00:00:00Z"), ["2023-06-02"]),
        # June 2's at 10:37: after a min of 10:00 that its midnight label is before
        (
            ("2023-06-02T10:00:00Z", "2023-06-10T00:00:00Z"),
            ["2023-06-02", "2023-06-07", "2023-06-09"],
        ),
    ],
)
def test_the_condition_sees_each_scenes_sensing_time(
    tmp_path: Any, sample_catalog: Any, bounds: tuple[str, str], kept: list[str]
) -> None:
    """Copernicus's load hands the condition each product's nominal date-time
    (FileLayerProvider.scala L1601-1606, load_stac.py L321), not the day: the label
    at midnight gave [2023-06-02, 2023-06-07] and [2023-06-07, 2023-06-09]."""
    from openeo import DataCube
    from openeo.processes import date_between

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    cube = DataCube.load_collection(
        "SENTINEL2_L2A", connection=None, bands=["B04", "B08"], spatial_extent=SEED_BBOX,
        temporal_extent=["2023-06-01", "2023-06-10"],
    ).ndvi(nir="B08", red="B04")  # fmt: skip
    condition = lambda v: date_between(v, min=bounds[0], max=bounds[1])  # noqa: E731
    graph = cube.filter_labels(condition, dimension="t").save_result(format="netCDF").flat_graph()
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    (path,) = backend.execute(graph, out_dir=tmp_path / "out").files
    assert [str(t)[:10] for t in open_result(path)["t"].values] == kept
