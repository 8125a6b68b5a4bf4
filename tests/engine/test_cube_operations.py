"""apply_dimension, merge_cubes, resample_spatial and rename_labels on cubes of any
shape, run through openeo-pg-parser-networkx with the engine's registry
(tests/process_vectors.py ``run_through_engine``); expected values from numpy/pyproj."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.resampling import METHODS, NEAR_ON_COPERNICUS
from hybrid.errors import HybridWarning, OverlapResolverMissing, ProcessParameterInvalid
from tests.process_vectors import run_through_engine

EPSG = 32632
TIMES = np.array(["2023-06-02", "2023-06-07", "2023-06-12"], dtype="datetime64[ns]")


def grid_cube(values: Any, dims: tuple[str, ...], **coords: Any) -> xr.DataArray:
    full = dict(coords)
    shape = values.shape
    full["x"] = 500005.0 + 10.0 * np.arange(shape[dims.index("x")])
    full["y"] = 5000995.0 - 10.0 * np.arange(shape[dims.index("y")])
    cube = xr.DataArray(values, dims=dims, coords=full)
    cube.attrs = {"crs": f"EPSG:{EPSG}", "epsg": EPSG}
    return cube


def bands_cube(lazy: bool = False) -> xr.DataArray:
    values: Any = np.random.default_rng(1).uniform(1, 2, size=(3, 2, 4, 5))
    if lazy:
        values = da.from_array(values, chunks=(1, 2, 4, 5))
    return grid_cube(values, ("t", "bands", "y", "x"), t=TIMES, bands=["B04", "B08"])


def series_cube(times: Any = TIMES, offset: float = 0.0) -> xr.DataArray:
    values = np.arange(len(times) * 20, dtype=float).reshape(len(times), 4, 5) + offset
    return grid_cube(values, ("t", "y", "x"), t=times)


def node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"process_id": process_id, "arguments": arguments}


def callback(result: str, **nodes: dict[str, Any]) -> dict[str, Any]:
    graph = {name: dict(n) for name, n in nodes.items()}
    graph[result]["result"] = True
    return {"process_graph": graph}


DATA = {"from_parameter": "data"}


# ---------------------------------------------------------------- apply


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    ("process", "expected"),
    [
        (callback("c", c=node("constant", x=7)), 7),
        # a comparison with a non-number is false for every pixel (openEO 1.2 gt)
        (callback("c", c=node("gt", x={"from_parameter": "x"}, y="text")), False),
    ],
)
def test_apply_with_a_single_value_result_fills_the_cube(
    process: dict[str, Any], expected: Any, lazy: bool
) -> None:
    data = bands_cube(lazy=lazy)
    out = run_through_engine("apply", {"data": data, "process": process})
    assert isinstance(out.data, da.Array) == lazy
    assert out.dims == data.dims and out.shape == data.shape
    np.testing.assert_array_equal(out["t"].values, TIMES)
    assert (out.values == expected).all()


@pytest.mark.parametrize("lazy", [False, True])
def test_apply_and_band_reductions_compute_a_float64_cube_in_float32(lazy: bool) -> None:
    """Copernicus converts the cube to float32 before apply or a callback over bands
    (geopysparkdatacube.py _apply_bands_dimension L407-408): after apply_kernel
    (float64) 0.1000000020 is 0.10000000149 (float32), not greater than the float32
    0.1; 0.1000000100 stays above it."""
    values: Any = np.array([0.1000000020, 0.1000000100, 0.05, np.nan]).reshape(1, 1, 2, 2)
    values = np.concatenate([values, values], axis=1)  # two bands
    if lazy:
        values = da.from_array(values, chunks=1)
    data = grid_cube(values, ("t", "bands", "y", "x"), t=TIMES[:1], bands=["B04", "B08"])
    x = {"from_parameter": "x"}
    out = run_through_engine(
        "apply", {"data": data, "process": callback("g", g=node("gt", x=x, y=0.1))}
    )
    np.testing.assert_array_equal(out.values[0, 0].ravel(), [False, True, False, False])
    first = node("array_element", data=DATA, index=0)
    reduced = run_through_engine(
        "reduce_dimension",
        {"data": data, "dimension": "bands",
         "reducer": callback("g", b=first, g=node("gt", x={"from_node": "b"}, y=0.1))},
    )  # fmt: skip
    np.testing.assert_array_equal(reduced.values[0].ravel(), [False, True, False, False])
    over_time = run_through_engine(
        "reduce_dimension",
        {"data": data, "dimension": "t", "reducer": callback("m", m=node("max", data=DATA))},
    )
    assert over_time.dtype == np.float64  # a callback over time gets the cube as it is


@pytest.mark.parametrize("lazy", [False, True])
def test_apply_nested_array_create_is_flattened_as_copernicus(lazy: bool) -> None:
    """``array_create([array_create([x, 1]), 2])`` is the three values x, 1, 2 for every
    pixel: Copernicus concatenates the tiles of an array's members, a number one tile
    (geotrellis-extensions OpenEOProcessScriptBuilder.scala ``arrayEnd`` L1038-1075)."""
    x = {"from_parameter": "x"}
    nested = {"inner": node("array_create", data=[x, 1]),
              "outer": node("array_create", data=[{"from_node": "inner"}, 2, x])}  # fmt: skip
    data = bands_cube(lazy=lazy)
    for reducer, want in (
        (node("sum", data={"from_node": "outer"}), 2 * data.values + 3),
        (node("count", data={"from_node": "outer"}), np.full(data.shape, 4)),
        (node("array_element", data={"from_node": "outer"}, index=2), np.full(data.shape, 2)),
    ):
        process = callback("r", r=reducer, **nested)
        out = run_through_engine("apply", {"data": data, "process": process})
        assert isinstance(out.data, da.Array) == lazy and out.dims == data.dims
        np.testing.assert_allclose(out.values, want)


# ---------------------------------------------------------------- apply_dimension


def test_apply_dimension_over_time_keeps_time_labels() -> None:
    data = bands_cube()
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("c", c=node("cumsum", data=DATA))},
    )
    assert out.dims == data.dims
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_allclose(out.values, np.cumsum(data.values, axis=0))


def _over_red_and_nir(**nodes: dict[str, Any]) -> dict[str, Any]:
    """A callback over bands ending at node ``out``: ``red`` (band 0), ``nir`` (band 1),
    their sum ``total``, then ``nodes``."""
    red = node("array_element", data=DATA, index=0)
    nir = node("array_element", data=DATA, index=1)
    total = node("add", x={"from_node": "nir"}, y={"from_node": "red"})
    return callback("out", red=red, nir=nir, total=total, **nodes)


@pytest.mark.parametrize("lazy", [False, True])
def test_array_element_of_an_array_the_band_callback_built(lazy: bool) -> None:
    """``array_element(array_create([a, b, c]), 1)`` in an apply_dimension over bands is
    ``b`` (ESA-APEx wildfire_visualization), not the callback's band 1: Copernicus takes
    the element of the tiles the array evaluates to (geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayElementFunction`` L1608-1650)."""
    data = bands_cube(lazy=lazy)
    process = _over_red_and_nir(
        built=node("array_create", data=[{"from_node": "red"}, {"from_node": "total"}, 7]),
        second=node("array_element", data={"from_node": "built"}, index=1),
        third=node("array_element", data={"from_node": "built"}, index=2),
        out=node("array_create", data=[{"from_node": "second"}, {"from_node": "third"}]),
    )
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": process}
    )
    r, n = data.values[:, 0], data.values[:, 1]
    np.testing.assert_allclose(out.values[:, 0], n + r)
    np.testing.assert_allclose(out.values[:, 1], np.full(r.shape, 7.0))


def test_reducer_array_element_of_a_missing_band_fails_with_return_nodata() -> None:
    """As on Copernicus, whose script builder ignores ``return_nodata``
    (OpenEOProcessScriptBuilder.scala L1644-1646); the stock implementation gave NaN."""
    reducer = callback("e", e=node("array_element", data=DATA, label="B02", return_nodata=True))
    with pytest.raises(ProcessParameterInvalid, match="Could not find label B02"):
        run_through_engine(
            "reduce_dimension", {"data": bands_cube(), "dimension": "bands", "reducer": reducer}
        )


def test_band_callback_changing_the_band_count_stays_lazy() -> None:
    data = bands_cube(lazy=True)
    process = _over_red_and_nir(
        nd=node("normalized_difference", x={"from_node": "nir"}, y={"from_node": "red"}),
        ratio=node("divide", x={"from_node": "nir"}, y={"from_node": "red"}),
        out=node(
            "array_create",
            data=[{"from_node": "nd"}, {"from_node": "ratio"}, {"from_node": "total"}],
        ),
    )
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": process}
    )
    assert isinstance(out.data, da.Array)
    assert out.dims == data.dims and list(out["bands"].values) == [0, 1, 2]
    np.testing.assert_array_equal(out["t"].values, TIMES)
    floats = data.values.astype(np.float32)  # a callback over bands computes in float32
    r, n = floats[:, 0], floats[:, 1]
    np.testing.assert_array_equal(out.values[:, 0], (n - r) / (n + r))
    np.testing.assert_array_equal(out.values[:, 1], n / r)
    np.testing.assert_array_equal(out.values[:, 2], n + r)


def test_apply_dimension_reducer_gets_the_first_date_a_new_dimension_is_a_rename() -> None:
    """Fewer values along time get the first dates, as on Copernicus
    (openeo-geotrellis-extensions ``createTemporalCallback``: ``labels.zip(resultTiles)``),
    where the spec says integers; a new ``target_dimension`` is the same result with the
    dimension renamed, its labels kept (openeo-python-driver
    ``process_implementations/cubes.py`` L111-125), where the spec says integers too."""
    data = bands_cube()
    mean = callback("m", m=node("mean", data=DATA))
    out = run_through_engine("apply_dimension", {"data": data, "dimension": "t", "process": mean})
    np.testing.assert_array_equal(out["t"].values, data["t"].values[:1])
    np.testing.assert_allclose(out.values[0], data.values.mean(axis=0))
    moved = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("c", c=node("cumsum", data=DATA)),
         "target_dimension": "steps"},
    )  # fmt: skip
    assert moved.dims == ("steps", "bands", "y", "x")
    np.testing.assert_array_equal(moved["steps"].values, data["t"].values)
    np.testing.assert_allclose(moved.values, np.cumsum(data.values, axis=0))


def test_a_new_target_dimension_over_bands_keeps_the_band_labels() -> None:
    """``apply_dimension(dimension="bands", target_dimension="newbands")`` is the bands
    renamed, B04 and B08 kept (geopysparkdatacube.py ``_apply_bands_dimension`` keeps the
    band metadata; the driver renames the dimension after); a ``target_dimension`` the
    cube has (``t`` for a callback over bands) renames nothing there."""
    data = bands_cube()
    twice = callback("m", m=node("multiply", x=DATA, y=2))
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "bands", "process": twice, "target_dimension": "newbands"},
    )
    assert out.dims == ("t", "newbands", "y", "x")
    assert list(out["newbands"].values) == ["B04", "B08"]
    np.testing.assert_allclose(out.values, data.values * 2)
    same = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "bands", "process": twice, "target_dimension": "t"},
    )
    assert same.dims == data.dims and list(same["bands"].values) == ["B04", "B08"]


def test_apply_dimension_time_into_the_bands_dimension_as_copernicus() -> None:
    data = bands_cube()
    graph = callback(
        "a",
        lo=node("min", data=DATA),
        hi=node("max", data=DATA),
        a=node("array_create", data=[{"from_node": "lo"}, {"from_node": "hi"}]),
    )
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": graph, "target_dimension": "bands"},
    )
    assert out.dims == ("bands", "y", "x") and list(out["bands"].values) == [0, 1, 2, 3]
    v = data.values
    want = np.stack([v[:, 0].min(0), v[:, 0].max(0), v[:, 1].min(0), v[:, 1].max(0)])
    np.testing.assert_allclose(out.values, want)
    mean = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("m", m=node("mean", data=DATA)),
         "target_dimension": "bands"},
    )  # fmt: skip
    assert list(mean["bands"].values) == ["B04", "B08"]
    np.testing.assert_allclose(mean.values, v.mean(axis=0))


def test_apply_dimension_unknown_dimension() -> None:
    with pytest.raises(ProcessParameterInvalid, match="DimensionNotAvailable"):
        run_through_engine(
            "apply_dimension",
            {"data": series_cube(), "dimension": "bands",
             "process": callback("c", c=node("cumsum", data=DATA))},
        )  # fmt: skip


# ---------------------------------------------------------------- merge_cubes


def test_merge_cubes_without_bands_joins_dates() -> None:
    early, late = series_cube(TIMES[:1]), series_cube(TIMES[1:], offset=100)
    out = run_through_engine("merge_cubes", {"cube1": late, "cube2": early})
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_array_equal(out.values[0], early.values[0])
    np.testing.assert_array_equal(out.values[1:], late.values)


def test_merge_cubes_overlap_uses_the_resolver_or_fails() -> None:
    one, two = series_cube(TIMES[:2]), series_cube(TIMES[1:], offset=1000)
    resolver = callback(
        "s", s=node("subtract", x={"from_parameter": "x"}, y={"from_parameter": "y"})
    )
    out = run_through_engine(
        "merge_cubes", {"cube1": one, "cube2": two, "overlap_resolver": resolver}
    )
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_array_equal(out.values[0], one.values[0])
    np.testing.assert_array_equal(out.values[1], one.values[1] - two.values[0])
    np.testing.assert_array_equal(out.values[2], two.values[1])
    with pytest.raises(ProcessParameterInvalid, match="OverlapResolverMissing"):
        run_through_engine("merge_cubes", {"cube1": one, "cube2": two})


def test_merge_cubes_sharing_a_band_need_a_resolver_whatever_the_dates() -> None:
    """Copernicus compares band names only (geopysparkdatacube.py merge_cubes L1068-1079):
    B04 of June 2 and B04 of June 7 and 12 do not overlap, yet need a resolver."""
    data = bands_cube()
    early, late = data.isel(t=slice(0, 1)), data.isel(t=slice(1, None))
    with pytest.raises(OverlapResolverMissing, match=r"share the band\(s\) B04, B08 "):
        run_through_engine("merge_cubes", {"cube1": early, "cube2": late})
    resolver = callback("m", m=node("max", data=[{"from_parameter": "x"},
                                                 {"from_parameter": "y"}]))  # fmt: skip
    out = run_through_engine(
        "merge_cubes", {"cube1": early, "cube2": late, "overlap_resolver": resolver}
    )
    np.testing.assert_array_equal(out.values, data.values)
    renamed = late.assign_coords(bands=["C04", "C08"])
    both = run_through_engine("merge_cubes", {"cube1": early, "cube2": renamed})
    assert list(both["bands"].values) == ["B04", "B08", "C04", "C08"]


def test_merge_cubes_bands_and_a_timeless_cube_broadcast_over_time() -> None:
    data = bands_cube()
    b04, b08 = data.sel(bands=["B04"]), data.sel(bands=["B08"])
    out = run_through_engine("merge_cubes", {"cube1": b04, "cube2": b08})
    assert list(out["bands"].values) == ["B04", "B08"]
    np.testing.assert_array_equal(out.values, data.values)
    weight = grid_cube(np.full((4, 5), 2.0), ("y", "x"))
    resolver = callback(
        "m", m=node("multiply", x={"from_parameter": "x"}, y={"from_parameter": "y"})
    )
    scaled = run_through_engine(
        "merge_cubes", {"cube1": series_cube(), "cube2": weight, "overlap_resolver": resolver}
    )
    assert scaled.dims == ("t", "y", "x")
    np.testing.assert_array_equal(scaled.values, series_cube().values * 2)


# ---------------------------------------------------------------- resample_spatial


def test_resample_spatial_reprojects_with_the_target_crs() -> None:
    import pyproj

    easting = np.broadcast_to(500005.0 + 10.0 * np.arange(20), (20, 20)).astype(float)
    data = grid_cube(easting.copy(), ("y", "x"))
    out = run_through_engine(
        "resample_spatial", {"data": data, "projection": 4326, "method": "bilinear"}
    )
    assert out.attrs["crs"] == "EPSG:4326" and out.dims == ("y", "x")
    lon, lat = np.meshgrid(out["x"].values, out["y"].values)
    assert 8.99 < lon.min() < lon.max() < 9.01 and 45.1 < lat.min() < lat.max() < 45.2
    x, _ = pyproj.Transformer.from_crs(4326, EPSG, always_xy=True).transform(lon, lat)
    valid = np.isfinite(out.values)
    assert valid.mean() > 0.5
    # bilinear over a field equal to easting gives back the easting (within a pixel)
    np.testing.assert_allclose(out.values[valid], x[valid], atol=10.0)


@pytest.mark.filterwarnings("ignore:Dataset has no geotransform")
@pytest.mark.parametrize("method", sorted(METHODS))
def test_resample_spatial_every_spec_method(method: str) -> None:
    data = bands_cube(lazy=True)
    out = run_through_engine("resample_spatial", {"data": data, "resolution": 20, "method": method})
    assert isinstance(out.data, da.Array)
    assert out.sizes["x"] == 3 and out.sizes["y"] == 2
    assert np.isfinite(out.values).any()
    if method == "average":
        want = data.values[..., :2, :2].mean(axis=(-1, -2))
        np.testing.assert_allclose(out.values[..., 0, 0], want)


@pytest.mark.filterwarnings("ignore:Dataset has no geotransform")
@pytest.mark.parametrize("process", ["resample_spatial", "resample_cube_spatial"])
@pytest.mark.parametrize("method", NEAR_ON_COPERNICUS)
def test_methods_copernicus_lacks_resample_with_near_as_there(method: str, process: str) -> None:
    """sum, q1, q3 and rms: Copernicus logs "Invalid/unsupported resample method" and
    takes near (geopysparkdatacube.py ``_get_resample_method`` L1694-1710); they were
    GDAL's sum (4x the values at half the resolution) and quartiles here."""
    from hybrid.errors import HybridWarning

    data = bands_cube(lazy=True)
    target = run_through_engine("resample_spatial", {"data": data, "resolution": 20})
    arguments = {"resolution": 20} if process == "resample_spatial" else {"target": target}
    near = run_through_engine(process, {"data": data, **arguments, "method": "near"})
    with pytest.warns(HybridWarning, match=f"no '{method}' resampling"):
        out = run_through_engine(process, {"data": data, **arguments, "method": method})
    np.testing.assert_array_equal(out.values, near.values)


def test_resample_spatial_bad_arguments() -> None:
    with pytest.raises(ProcessParameterInvalid, match="method"):
        run_through_engine("resample_spatial", {"data": series_cube(), "method": "nearest"})
    with pytest.raises(ProcessParameterInvalid, match="projection"):
        run_through_engine("resample_spatial", {"data": series_cube(), "projection": "EPSG:0"})


# ---------------------------------------------------------------- rename_labels


def test_rename_labels_on_time_keeps_the_dates_as_copernicus() -> None:
    # Copernicus renames only metadata, where a temporal dimension holds no labels
    # (geopysparkdatacube.py L499-511, openeo metadata.py L109-111): the dates stay
    for source in (["2023-06-02T00:00:00Z", "2023-06-07"], None, ["not a label", "2023"]):
        target = ["first", "second"] if source else ["a", "b", "c"]
        out = run_through_engine(
            "rename_labels",
            {"data": series_cube(), "dimension": "t", "target": target, "source": source},
        )
        np.testing.assert_array_equal(out["t"].values, TIMES)
        np.testing.assert_array_equal(out.values, series_cube().values)
    with pytest.raises(ProcessParameterInvalid, match="DimensionNotAvailable"):
        run_through_engine(
            "rename_labels", {"data": series_cube(), "dimension": "time", "target": ["a"]}
        )


def test_rename_labels_bands_and_errors() -> None:
    out = run_through_engine(
        "rename_labels",
        {"data": bands_cube(), "dimension": "bands", "target": ["red"], "source": ["B04"]},
    )
    assert list(out["bands"].values) == ["red", "B08"]
    with pytest.raises(ProcessParameterInvalid, match="LabelNotAvailable"):
        run_through_engine(
            "rename_labels",
            {"data": bands_cube(), "dimension": "bands", "target": ["x"], "source": ["B99"]},
        )
    # as many targets as labels: all renamed, as on Copernicus
    out = run_through_engine(
        "rename_labels", {"data": bands_cube(), "dimension": "bands", "target": ["r", "n"]}
    )
    assert list(out["bands"].values) == ["r", "n"]


def test_rename_labels_of_numbered_bands_to_fewer_names_renames_as_copernicus() -> None:
    """Numbered bands (an apply_dimension's new labels) are no exception: without
    ``source`` Copernicus's band metadata is ``target`` whatever the labels were (openeo
    client metadata.py ``BandDimension.rename_labels`` L240-241, via geopysparkdatacube.py
    L499-511), and its netCDF writer names a band beyond it ``unkown_band_<i>``
    (NetCDFRDDWriter.scala L176-181), not by its old number."""
    numbered = bands_cube().assign_coords(bands=[0, 1])
    with pytest.warns(HybridWarning, match="beyond them are"):
        out = run_through_engine(
            "rename_labels", {"data": numbered, "dimension": "bands", "target": ["first"]}
        )
    assert list(out["bands"].values) == ["first", "unkown_band_1"]
    np.testing.assert_array_equal(out.values, numbered.values)


@pytest.mark.parametrize(
    ("target", "bands", "note"),
    [
        (["x"], ["x", "unkown_band_1"], "beyond them are"),
        (["a", "b", "c"], ["a", "b"], r"the names \['c'\] name no band"),
    ],
)
def test_rename_labels_of_bands_to_another_count_renames_as_copernicus(
    target: list[str], bands: list[str], note: str
) -> None:
    """Without ``source`` Copernicus renames only the band metadata, to ``target`` of
    any length (openeo client metadata.py L240-241); the tiles keep their bands, which its
    netCDF writer names ``unkown_band_<i>`` beyond ``target`` (NetCDFRDDWriter.scala
    L176-181). The values stay, a callback's label look-up goes by that list."""
    with pytest.warns(HybridWarning, match=note):
        out = run_through_engine(
            "rename_labels", {"data": bands_cube(), "dimension": "bands", "target": target}
        )
    assert list(out["bands"].values) == bands
    np.testing.assert_array_equal(out.values, bands_cube().values)
    first = callback("e", e=node("array_element", data=DATA, label=target[0]))
    reduced = run_through_engine(
        "reduce_dimension", {"data": out, "dimension": "bands", "reducer": first}
    )
    np.testing.assert_allclose(reduced.values, bands_cube().isel(bands=0).values, rtol=1e-6)


# ---------------------------------------------------------------- mask, array_apply


@pytest.mark.parametrize("lazy", [False, True])
def test_a_mask_on_a_coarser_grid_is_taken_by_nearest_neighbour(lazy: bool) -> None:
    data = bands_cube(lazy)
    coarse = np.array([[0, 1], [1, 0]], dtype=float)  # 20 m pixels, 40 m wide: one column short
    mask = xr.DataArray(
        coarse,
        dims=("y", "x"),
        coords={"x": 500010.0 + 20.0 * np.arange(2), "y": 5000990.0 - 20.0 * np.arange(2)},
        attrs=dict(data.attrs),
    )
    out = run_through_engine("mask", {"data": data, "mask": mask}).compute()
    rows, cols = np.arange(4) // 2, np.minimum(np.arange(5) // 2, 1)
    flags = coarse[rows][:, cols].astype(bool)
    flags[:, 4] = True  # beyond the mask: no data there, which masks
    want = np.where(flags, np.nan, data.values)
    np.testing.assert_array_equal(out.values, want)


def test_array_apply_over_time_gets_each_label() -> None:
    """The BAP notebook's day of month: 15 + date_difference(date_replace_component(
    label, 15, "day"), label, "day") per date."""
    day = callback(
        "add",
        replace=node("date_replace_component", date={"from_parameter": "label"}, value=15,
                     component="day"),
        diff=node("date_difference", date1={"from_node": "replace"},
                  date2={"from_parameter": "label"}, unit="day"),
        add=node("add", x=15, y={"from_node": "diff"}),
    )  # fmt: skip
    process = callback("apply", apply=node("array_apply", data=DATA, process=day))
    cube = series_cube()
    out = run_through_engine(
        "apply_dimension", {"data": cube, "process": process, "dimension": "t"}
    )
    assert out.dims == cube.dims
    np.testing.assert_array_equal(out.values[:, 0, 0], [2, 7, 12])
    assert (out.values == np.array([2, 7, 12])[:, None, None]).all()


def test_merge_cubes_keeps_longer_band_names_of_the_second_cube() -> None:
    """compute_and_rescale_indices merged back (DynamicLandCoverMapping notebook): the
    labels 'NDVI', 'ANIR' after 'B03' were cut to 'NDV', 'ANI'."""
    data = bands_cube()
    indices = data.assign_coords(bands=["NDVI", "ANIR"])
    out = run_through_engine("merge_cubes", {"cube1": data, "cube2": indices})
    assert list(out["bands"].values) == ["B04", "B08", "NDVI", "ANIR"]
