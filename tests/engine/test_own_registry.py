"""A graph of this project's own processes runs without openeo-processes-dask's
implementations (:func:`hybrid.backends.local.registry.covering`); one that needs a
stock process gets the whole registry; both resolve callback parameters the way
openeo-processes-dask's implementations expect
(:mod:`hybrid.backends.local.parameter_references`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pytest

from hybrid.backends.local.parameter_references import resolving
from hybrid.backends.local.processes.arrays import array_element
from hybrid.backends.local.registry import base_registry, covering, own_registry
from hybrid.backends.local.stock import stock_process
from hybrid.errors import ProcessParameterInvalid

# Runs the reference workflow on the sample in a fresh interpreter; prints which of the
# heavy modules it imported.
_RUN = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.params import Workflow
    from hybrid.sample import SEED_AOI
    from hybrid.workflow_graph import build_graph

    catalog, out = sys.argv[1], Path(sys.argv[2])
    graph = build_graph(Workflow(aoi=SEED_AOI, start="2023-05-01", end="2023-07-01"))
    result = LocalBackend(LocalSettings(stac=catalog)).execute(graph, out_dir=out)
    heavy = ("openeo_processes_dask.process_implementations", "distributed", "dask.dataframe")
    imported = [m for m in heavy if m in sys.modules]
    print(json.dumps({"files": len(result.files), "imported": imported}))
    """
)


@pytest.mark.slow
def test_the_reference_workflow_imports_no_stock_implementations(
    sample_catalog: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(sample_catalog), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"files": 1, "imported": []}


def test_covering_picks_the_own_registry_only_when_it_has_every_process() -> None:
    own = own_registry().store["predefined"]
    assert {"load_collection", "reduce_dimension", "array_element", "apply_kernel"} <= set(own)
    assert "drop_dimension" not in own  # openeo-processes-dask's, unchanged
    assert covering({"load_collection", "ndvi", "save_result"}) is own_registry()
    assert covering({"load_collection", "drop_dimension", "save_result"}) is base_registry()
    assert covering({"no_such_process"}) is base_registry()  # to report it unsupported
    assert set(own) <= set(base_registry().store["predefined"])


def test_resolving_hands_over_values_and_drops_machinery() -> None:
    from openeo_pg_parser_networkx.pg_schema import ParameterReference

    def add(x: Any, y: Any) -> Any:
        return x + y

    call = resolving(add)
    x, y = ParameterReference(from_parameter="x"), ParameterReference(from_parameter="y")
    # xarray hands the block positionally; the parent names it x; y comes by name
    got = call(
        np.array([1.0, 2.0]),
        x=x,
        y=y,
        positional_parameters={"x": 0},
        named_parameters={"y": 10.0},
        axis=0,
        keepdims=False,
        context=None,
        dim_labels=["a", "b"],
    )
    np.testing.assert_array_equal(got, [11.0, 12.0])
    assert call(x, y=3, named_parameters={"x": 4}) == 7  # a positional reference
    with pytest.raises(ProcessParameterInvalid, match="'y' it refers to has no value"):
        call(x=1, y=y)


def test_resolving_passes_the_machinery_on_to_who_takes_it() -> None:
    seen: dict[str, Any] = {}

    def reducer(data: Any, axis: Any = None, context: Any = None) -> Any:
        seen.update(axis=axis, context=context)
        return data

    resolving(reducer)(data=[1], axis=2, context={"a": 1}, keepdims=True, dim_labels=["b"])
    assert seen == {"axis": 2, "context": {"a": 1}}


@pytest.mark.parametrize("lazy", [False, True])
def test_array_element_on_a_cube_axis_matches_the_stock_implementation(lazy: bool) -> None:
    values = np.arange(24.0).reshape(2, 3, 4)
    data = da.from_array(values, chunks=(1, 3, 2)) if lazy else values
    labels = np.array(["B04", "B08", "SCL"])
    stock = stock_process("array_element")
    for kwargs in ({"label": "SCL"}, {"label": "B04"}, {"index": 1}, {"index": 2}):
        got = array_element(data, axis=1, dim_labels=labels, **kwargs)  # type: ignore[arg-type]
        want = stock(data, axis=1, dim_labels=labels, **kwargs)
        assert type(got) is type(want)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    times = np.array(["2023-05-01", "2023-05-06"], dtype="datetime64[ns]")
    got = array_element(data, label="2023-05-06T00:00:00Z", axis=0, dim_labels=times)
    np.testing.assert_array_equal(np.asarray(got), values[1])


@pytest.mark.parametrize("missing", [{"label": "B02"}, {"index": 3}])
@pytest.mark.parametrize("return_nodata", [False, True])
def test_array_element_on_a_cube_axis_fails_for_a_missing_element_as_copernicus(
    missing: dict[str, Any], return_nodata: bool
) -> None:
    """Copernicus's script builder never reads ``return_nodata``: a label or index the
    callback's array lacks fails (OpenEOProcessScriptBuilder.scala L1644-1650); the
    stock implementation gave NaN with ``return_nodata``."""
    labels = np.array(["B04", "B08", "SCL"])
    want = (
        "Could not find label B02, these labels are available"
        if "label" in missing
        else ("Invalid band index 3, only 3 bands available")
    )
    with pytest.raises(ProcessParameterInvalid, match=want):
        array_element(
            np.arange(24.0).reshape(2, 3, 4),
            axis=1,
            dim_labels=labels,
            return_nodata=return_nodata,
            **missing,
        )


def _elementwise_arguments(pid: str, values: Any) -> dict[str, Any]:
    two = {"add", "subtract", "multiply"}
    if pid in two:
        return {"x": values, "y": values * 0.5 - 1}
    if pid == "arctan2":
        return {"y": values, "x": values * 0.5 - 1}
    if pid == "exp":
        return {"p": values}
    if pid == "clip":
        return {"x": values, "min": -0.5, "max": 2.0}
    if pid == "linear_scale_range":
        # float output bounds: integer ones truncate as Copernicus (test_linear_scale_range)
        return {
            "x": values,
            "inputMin": 2.0,
            "inputMax": -1.0,
            "outputMin": 0.0,
            "outputMax": 255.0,
        }
    if pid in ("pi", "e"):
        return {}
    return {"x": values}


@pytest.mark.parametrize("lazy", [False, True])
def test_elementwise_processes_give_the_stock_values(lazy: bool) -> None:
    from hybrid.backends.local.processes.elementwise import processes
    from hybrid.backends.local.stock import stock_implementations

    stock = stock_implementations()
    plain = np.array([-2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, np.nan])
    values = da.from_array(plain, chunks=4) if lazy else plain
    with np.errstate(all="ignore"):
        for pid, own in processes().items():
            if pid == "round":  # differs on arrays on purpose: test_round_of_numbers_and_of_arrays
                continue
            name = {"int": "_int"}.get(pid, pid)
            kwargs = _elementwise_arguments(pid, values)
            source = stock.math if pid == "e" else stock  # e is not in the package's names
            got, want = own(**kwargs), getattr(source, name)(**kwargs)
            assert type(got) is type(want), pid
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=pid)
    assert processes()["add"](x=1, y=2) == 3


@pytest.mark.parametrize("lazy", [False, True])
def test_round_of_numbers_and_of_arrays(lazy: bool) -> None:
    """A number: the spec's half to even to ``p`` decimals, as openeo-processes-dask; a
    cube's array: Java's Math.round (halves up) to the integer, ``p`` unread, as
    Copernicus's callbacks (OpenEOProcessScriptBuilder.scala L1183, geotrellis Round)."""
    from hybrid.backends.local.processes.elementwise import processes
    from hybrid.backends.local.stock import stock_implementations

    own, stock = processes()["round"], stock_implementations()._round
    for number, p in ((2.5, 0), (-2.5, 0), (0.5, 0), (2.567, 2), (-1.25, 1)):
        assert own(x=number, p=p) == stock(x=number, p=p)
    plain = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.567, np.nan], dtype=np.float32)
    values = da.from_array(plain, chunks=4) if lazy else plain
    for p in (0, 2):
        got = own(x=values, p=p)
        assert got.dtype == np.float32 and type(got) is type(values)
        want = [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 3.0, np.nan]
        np.testing.assert_array_equal(np.asarray(got), want)


def test_an_index_of_arithmetic_runs_on_the_own_registry() -> None:
    evi = {"load_collection", "reduce_dimension", "array_element", "subtract", "multiply"}
    evi |= {"add", "divide", "linear_scale_range", "save_result"}
    assert covering(evi) is own_registry()
    with pytest.raises(ProcessParameterInvalid, match="MinMaxSwapped"):
        own_registry()["predefined", "clip"].implementation(x=1.0, min=2, max=1)
