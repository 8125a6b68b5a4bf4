"""Users' own repositories, round 8: published openEO client code run unchanged against
``hybrid serve``, read from checkouts (or bare git directories) named by environment
variables, never copied here, skipped without them:

- ``HYBRID_MOUNTAINS_SNOW``: SNOWCOP/openeo_mountains_snow
  ``src/openeo_mountains_snow/snow_cover_fraction.py`` with its ``conf/config.yaml``
  (``SENTINEL2_L1C`` as ``SENTINEL2_L2A``, same band names; ``COPERNICUS_30`` as one
  day's ``B04``; ``ESA_WORLDCOVER_10M_2021_V2``/``MAP`` as one day's ``SCL``, whose
  values never reach the water class 80; hydra's decorator and config object replaced
  by the config file read into attributes).

Only the connection, extents and dates are adapted; each result is checked against
numpy on what the same server downloads.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, raw_bands
from tests.workflows.test_apex_udp_scripts import COVER_DAY

pytestmark = pytest.mark.slow

SNOW_ENV = "HYBRID_MOUNTAINS_SNOW"
_SNOW = "src/openeo_mountains_snow/"
#: the snow season of the sample (snow above a rising snow line until June)
SNOW_SEASON = ["2023-05-01", "2023-06-10"]


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _attributes(value: Any) -> Any:
    if isinstance(value, dict):
        return types.SimpleNamespace(**{k: _attributes(v) for k, v in value.items()})
    return value


def _snow() -> tuple[dict[str, Any], Any]:
    """The namespace of ``snow_cover_fraction.py`` and its config, inputs substituted."""
    import yaml

    def text(relative: str) -> str:
        return published_text(SNOW_ENV, _SNOW + relative, "SNOWCOP/openeo_mountains_snow")

    cfg = _attributes(yaml.safe_load(text("conf/config.yaml")))
    cfg.sentinel2_l1c.collection = "SENTINEL2_L2A"
    cfg.water_mask.collection, cfg.water_mask.band = "SENTINEL2_L2A", "SCL"
    day = f"temporal_extent={COVER_DAY!r}"
    dem = f'"SENTINEL2_L2A", {day}, bands=["B04"], spatial_extent='
    source = text("snow_cover_fraction.py")
    for old, new in [
        ("import hydra\n", ""),
        ("from omegaconf import DictConfig, OmegaConf\n", "DictConfig = object\n"),
        ("@hydra.main(", "# @hydra.main("),
        ("from openeo_mountains_snow.representative_pixels import", "# "),
        ('"COPERNICUS_30", spatial_extent=', dem),
        ("water_mask.band]).max_time()", f"water_mask.band], {day}).max_time()"),
    ]:  # fmt: skip
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "snow_cover_fraction"}
    exec(compile(source, _SNOW + "snow_cover_fraction.py", "exec"), namespace)
    return namespace, cfg


def _aoi() -> Any:
    import shapely

    return shapely.box(BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"])


def test_snow_cloud_mask_any_of_a_list_of_comparisons(connection: Any, tmp_path: Path) -> None:
    """``cloud_water_mask``: ``reduce_dimension(bands, lambda x: any([x == v for v in
    cloud_values]))`` over SCL (and over the water layer), the two masks joined with
    ``|``. ``any`` gets a list of the comparisons' results, which Copernicus folds with
    ``Or`` tile by tile (geotrellis-extensions OpenEOProcessScriptBuilder.scala
    ``reduceFunction`` L573-585, ``"any"`` L1137, the list's tiles ``arrayEnd``
    L1038-1074). Found here: a 400 ("The truth value of an array is ambiguous")."""
    namespace, cfg = _snow()
    mask = namespace["cloud_water_mask"](_aoi(), SNOW_SEASON, connection, cfg)
    mask.download(tmp_path / "mask.nc", format="netCDF")
    got = _nc(tmp_path / "mask.nc")
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", dates=SNOW_SEASON)
    (name,) = [v for v in got.data_vars if v != "crs"]
    assert got.sizes["t"] == raw.sizes["t"] > 4
    expected = np.isin(raw["SCL"].values, cfg.sentinel2_l2a.cloud_values)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(got[name].values == 1, expected)


def test_snow_inputs_append_labelled_indices_to_the_bands(connection: Any, tmp_path: Path) -> None:
    """``snowflake_inputs_cube``: the bands masked by clouds, water and the low-elevation
    mask (``aggregate_spatial`` of the 10th percentile, ``vector_to_raster``), merged with
    slope and aspect for the local solar incidence angle, then ``apply_dimension(bands)``
    appending NDVI, NDSI, diff_B_NIR and SI with ``array_append(bands, value, label)``.
    Copernicus appends the value's tiles and ignores the label (geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayAppendFunction`` L1387-1399). Found here: a
    400 (the label sent the value to openeo-processes-dask's labelled append, which
    could not broadcast it)."""
    namespace, cfg = _snow()
    cube = namespace["snowflake_inputs_cube"](_aoi(), SNOW_SEASON, connection, cfg)
    cube.download(tmp_path / "inputs.nc", format="netCDF")
    got = _nc(tmp_path / "inputs.nc")
    bands = ["B02", "B03", "B04", "B08", "B11", "local_solar_incidence_angle"]
    assert [v for v in got.data_vars if v != "crs"] == [
        *bands, "NDVI", "NDSI", "diff_B_NIR", "SI"
    ]  # fmt: skip
    b = {name: got[name].values.astype(np.float64) for name in ["B02", "B03", "B04", "B08", "B11"]}
    ndsi = (b["B03"] - b["B11"]) / (b["B03"] + b["B11"])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = {
            "NDVI": (b["B08"] - b["B04"]) / (b["B08"] + b["B04"]),
            "NDSI": ndsi,
            "diff_B_NIR": (b["B02"] - b["B08"]) / (b["B02"] + b["B08"]),
            "SI": ndsi / b["B03"],
        }
    for name, want in expected.items():
        np.testing.assert_allclose(got[name].values, want, rtol=1e-5, err_msg=name)
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", dates=SNOW_SEASON)
    cloudy = np.isin(raw["SCL"].sel(t=got["t"].values).values, cfg.sentinel2_l2a.cloud_values)
    assert cloudy.any()
    assert np.isnan(got["NDSI"].values[cloudy]).all()
    assert np.isfinite(got["NDSI"].values).mean() > 0.3
