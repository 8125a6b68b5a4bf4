"""resample_spatial and rename_labels on cubes of any shape, run through
openeo-pg-parser-networkx with the engine's registry; expected values from numpy/pyproj.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from hybrid.backends.local.processes.resampling import METHODS, NEAR_ON_COPERNICUS
from hybrid.errors import HybridWarning, ProcessParameterInvalid
from tests.engine.small_cubes import (
    DATA,
    EPSG,
    TIMES,
    bands_cube,
    callback,
    grid_cube,
    node,
    series_cube,
)
from tests.process_vectors import run_through_engine

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
