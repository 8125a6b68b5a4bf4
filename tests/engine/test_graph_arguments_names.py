"""Arguments by name as Copernicus reads them: an argument a process never reads, or that
is a keyword of the Python implementation only, is ignored with a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.mark.slow
def test_an_argument_copernicus_never_reads_is_ignored_with_a_warning(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Copernicus's cube processes read their arguments by name (python-driver
    process_implementations/cubes.py ``reduce_dimension`` L228-235), so a
    ``target_dimension`` of openEO 0.4 on reduce_dimension or aggregate_temporal_period
    is ignored there; here it was a 400 (TypeError of the implementation)."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import HybridWarning
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(extra: dict[str, Any], out: str) -> Any:
        load = {"id": "SENTINEL2_L2A", "spatial_extent": SEED_BBOX, "bands": ["B04"]}
        load["temporal_extent"] = ["2023-06-01", "2023-06-20"]
        top = {"process_graph": {"m": {"process_id": "max", "result": True, "arguments": {}}}}
        top["process_graph"]["m"]["arguments"]["data"] = {"from_parameter": "data"}
        graph = {
            "dc": {"process_id": "load_collection", "arguments": load},
            "p": {"process_id": "aggregate_temporal_period", "arguments": {}},
            "r": {"process_id": "reduce_dimension", "arguments": {}},
            "s": {"process_id": "save_result", "arguments": {}, "result": True},
        }
        graph["p"]["arguments"] = {"data": {"from_node": "dc"}, "period": "month"}
        graph["p"]["arguments"] |= {"reducer": top, **extra}
        graph["r"]["arguments"] = {"data": {"from_node": "p"}, "dimension": "t"}
        graph["r"]["arguments"] |= {"reducer": top, **extra}
        graph["s"]["arguments"] = {"data": {"from_node": "r"}, "format": "netCDF"}
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (path,) = backend.execute(graph, out_dir=tmp_path / out).files
        return open_result(path)

    with pytest.warns(HybridWarning, match="argument 'target_dimension' is no parameter"):
        got = run({"target_dimension": "result"}, "extra")
    np.testing.assert_array_equal(got.values, run({}, "plain").values)


def test_an_unknown_argument_in_a_callback_or_of_mask_scl_dilation_is_ignored(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Inside callbacks Copernicus's script builder reads each process's arguments by
    name (OpenEOProcessScriptBuilder.scala ``expressionEnd`` L1086-1214), even those of
    ``max``, which fail outside callbacks; mask_scl_dilation's arguments go to its
    masking, which reads them by name (CloudFilterStrategy.scala L56-69). Both were a
    400 here."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import HybridWarning
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(extra: dict[str, Any], masking: dict[str, Any], out: str) -> Any:
        load = {"id": "SENTINEL2_L2A", "spatial_extent": SEED_BBOX, "bands": ["B04", "SCL"]}
        load["temporal_extent"] = ["2023-06-01", "2023-06-10"]
        top = {"m": {"process_id": "max", "result": True, "arguments": {**extra}}}
        top["m"]["arguments"]["data"] = {"from_parameter": "data"}
        masked = {"data": {"from_node": "dc"}, "scl_band_name": "SCL", **masking}
        graph = {
            "dc": {"process_id": "load_collection", "arguments": load},
            "k": {"process_id": "mask_scl_dilation", "arguments": masked},
            "r": {"process_id": "reduce_dimension", "arguments": {}},
            "s": {"process_id": "save_result", "arguments": {}, "result": True},
        }
        reducer = {"process_graph": top}
        graph["r"]["arguments"] = {"data": {"from_node": "k"}, "dimension": "t", "reducer": reducer}
        graph["s"]["arguments"] = {"data": {"from_node": "r"}, "format": "netCDF"}
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (path,) = backend.execute(graph, out_dir=tmp_path / out).files
        return open_result(path)

    with pytest.warns(HybridWarning) as seen:
        got = run({"foo": "bar"}, {"kernel3_size": 5}, "extra")
    notes = [str(w.message) for w in seen]
    assert any("max: argument 'foo' is no parameter" in n and "'r/m'" in n for n in notes)
    assert any("mask_scl_dilation: argument 'kernel3_size' is no" in n for n in notes)
    np.testing.assert_array_equal(got.values, run({}, {}, "plain").values)


def test_a_keyword_of_the_python_implementation_is_no_parameter_in_a_callback(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """``axis`` and ``keepdims`` are keywords of openeo-processes-dask's ``max``, not
    parameters of the openEO process: Copernicus's script builder never reads them
    (OpenEOProcessScriptBuilder.scala ``expressionEnd`` L1086-1214), so ``max(data,
    axis=0)`` over ``t`` is the plain maximum over ``t``, with a warning (here the
    signature counted: ``axis=0`` reduced another axis)."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import HybridWarning
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(extra: dict[str, Any], out: str) -> Any:
        load = {"id": "SENTINEL2_L2A", "spatial_extent": SEED_BBOX, "bands": ["B04", "B08"]}
        load["temporal_extent"] = ["2023-06-01", "2023-06-20"]
        top = {"m": {"process_id": "max", "result": True, "arguments": {**extra}}}
        top["m"]["arguments"]["data"] = {"from_parameter": "data"}
        reducer = {"process_graph": top}
        graph = {
            "dc": {"process_id": "load_collection", "arguments": load},
            "r": {"process_id": "reduce_dimension", "arguments": {}},
            "s": {"process_id": "save_result", "arguments": {}, "result": True},
        }
        graph["r"]["arguments"] = {
            "data": {"from_node": "dc"},
            "dimension": "t",
            "reducer": reducer,
        }
        graph["s"]["arguments"] = {"data": {"from_node": "r"}, "format": "netCDF"}
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (path,) = backend.execute(graph, out_dir=tmp_path / out).files
        return open_result(path)

    with pytest.warns(HybridWarning) as seen:
        got = run({"axis": 0, "keepdims": True}, "extra")
    notes = [str(w.message) for w in seen]
    for name in ("axis", "keepdims"):
        assert any(f"max: argument '{name}' is no parameter" in n for n in notes), notes
    want = run({}, "plain")
    assert got.dims == want.dims
    np.testing.assert_array_equal(got.values, want.values)


def test_parameter_names_are_not_those_of_another_registry_with_the_same_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The names are cached per registry: a registry at the address of a dropped one
    (the same ``id``; simulated by one ``id`` for every object) gets its own names."""
    from openeo_pg_parser_networkx import ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process

    from hybrid.backends.local import engine

    def registry(parameter: str) -> Any:
        made = ProcessRegistry()
        spec = {"id": "p", "parameters": [{"name": parameter, "schema": {}}]}
        made["predefined", "p"] = Process(spec=spec, implementation=lambda: None)
        return made

    monkeypatch.setattr(engine, "id", lambda _: 7, raising=False)
    monkeypatch.setattr(engine, "_PARAMETER_NAMES", {})
    first, second = registry("a"), registry("b")
    assert engine._parameter_names(first) == {"p": frozenset({"a"})}
    assert engine._parameter_names(second) == {"p": frozenset({"b"})}
    assert engine._parameter_names(second) is engine._parameter_names(second)


@pytest.mark.slow
def test_an_unknown_argument_of_a_process_taking_any_keyword_is_ignored_with_a_warning(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Copernicus reads load_collection's and save_result's arguments by name
    (python-driver 9e5b49b2 process_implementations/io.py ``load_collection`` L103-120,
    ``save_result`` L171-175), and its script builder those of ``array_apply`` and the
    date processes in a callback (OpenEOProcessScriptBuilder.scala ``expressionEnd``
    L1086-1214): any other argument is ignored there. Here the implementations that take
    any keyword (or are the run's own) were not filtered: save_result's was a 400
    (TypeError), the others passed without a warning, and ``axis`` reached array_apply.
    ``featureflags``, which Copernicus reads (io.py L118-119), passes silently."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import HybridWarning
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(extra: dict[str, Any], out: str) -> Any:
        load = {"id": "SENTINEL2_L2A", "spatial_extent": SEED_BBOX, "bands": ["B04"]}
        load |= {"temporal_extent": ["2023-06-01", "2023-06-10"], "featureflags": {}}
        double = {"m": {"process_id": "multiply", "result": True, "arguments": {"y": 2}}}
        double["m"]["arguments"]["x"] = {"from_parameter": "x"}
        each = {"process_id": "array_apply", "result": True, "arguments": {**extra}}
        each["arguments"] |= {"data": {"from_parameter": "data"}}
        each["arguments"]["process"] = {"process_graph": double}
        graph = {
            "dc": {"process_id": "load_collection", "arguments": {**load, **extra}},
            "r": {"process_id": "apply_dimension", "arguments": {"dimension": "t"}},
            "s": {"process_id": "save_result", "arguments": {**extra}, "result": True},
        }
        graph["r"]["arguments"] |= {"data": {"from_node": "dc"}}
        graph["r"]["arguments"]["process"] = {"process_graph": {"a": each}}
        graph["s"]["arguments"] |= {"data": {"from_node": "r"}, "format": "netCDF"}
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (path,) = backend.execute(graph, out_dir=tmp_path / out).files
        return open_result(path)

    with pytest.warns(HybridWarning) as seen:
        got = run({"foo": 1, "axis": 0}, "extra")
    notes = [str(w.message) for w in seen]
    for pid in ("load_collection", "array_apply", "save_result"):
        for name in ("foo", "axis"):
            assert any(f"{pid}: argument '{name}' is no parameter" in n for n in notes), notes
    assert not any("featureflags" in n for n in notes), notes
    np.testing.assert_array_equal(got.values, run({}, "plain").values)
