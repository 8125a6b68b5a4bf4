"""Open-EO/openeo-community-examples notebooks through the openeo client against
``hybrid serve``, their calls as published with only the connection, collection, AOI
and dates substituted, each result checked against numpy on the raw bands of the same
server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, FIELDS, dilation_masks, pixels_inside, raw_bands

#: the notebooks' whole year (2021, 2020) in the sample's
YEAR = ["2023-01-01", "2023-12-31"]
#: the land cover notebook's year (2020) from the sample's first date, 3 May
SEASON = ["2023-05-01", "2023-12-31"]

#: python/LandCoverStatistics/land_cover_country_lcfm.ipynb
LCFM_LEGEND = {
    "Tree_Cover": 10,
    "Shrubland": 20,
    "Grassland": 30,
    "Cropland": 40,
    "Herbaceous_Wetland": 50,
    "Mangroves": 60,
    "Moss_Lichen": 70,
    "Bare_Sparse_Vegetation": 80,
    "Built_Up": 90,
    "Permanent_Water_Bodies": 100,
    "Snow_Ice": 110,
    "Unclassifiable": 254,
}

COS_LAT_UDF = """
import numpy as np
import xarray as xr

def apply_datacube(cube: xr.DataArray, context: dict) -> xr.DataArray:
    # 'y' coordinate is latitude in degrees for EPSG:4326 data
    w = np.cos(np.deg2rad(cube.coords["y"])).clip(min=0)
    # Reuse first-band slice as spatial template for the weight band (avoids expand_dims)
    w_band = cube.isel(bands=slice(0, 1)) * 0 + w
    return xr.concat([cube * w, w_band], dim="bands")
"""


@pytest.mark.slow
def test_parcel_delineation_masked_ndvi_of_a_year(connection: Any, tmp_path: Path) -> None:
    """python/ParcelDelineation/Parcel delineation.ipynb up to the NDVI its UDFs segment
    (the segmentation runs an ONNX model from the job options' archives): a year as
    ``temporal_extent`` (``"2021"``, here ``"2023"``: 1 January to 1 January), the extent
    as ``dict(zip(...))``, ``scl.process("to_scl_dilation_mask", ...)`` with
    ``max_cloud_cover=10`` on both loads, ``mask``, ``ndvi()`` downloaded as netCDF (its
    variable ``var``) and the notebook's three least clouded dates."""
    eoconn = connection
    bbox = [BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]]
    year = "2023"
    scl = eoconn.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=year,
        spatial_extent=dict(zip(["west", "south", "east", "north"], bbox, strict=True)),
        bands=["SCL"],
        max_cloud_cover=10,
    )
    cloud_mask = scl.process(
        "to_scl_dilation_mask",
        data=scl,
        kernel1_size=17,
        kernel2_size=77,
        mask1_values=[2, 4, 5, 6, 7],
        mask2_values=[3, 8, 9, 10, 11],
        erosion_kernel_size=3,
    )
    s2_bands = eoconn.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=year,
        spatial_extent=dict(zip(["west", "south", "east", "north"], bbox, strict=True)),
        bands=["B04", "B08"],
        max_cloud_cover=10,
    )
    s2_bands_masked = s2_bands.mask(cloud_mask)
    ndviband = s2_bands_masked.ndvi(red="B04", nir="B08")
    ndviband.download(tmp_path / "ndviband.nc")
    with xr.open_dataset(tmp_path / "ndviband.nc", engine="h5netcdf") as ndvi_data:
        var = ndvi_data["var"].load()
    v1 = var.isnull().mean(dim=["x", "y"])
    var1 = var.sel(t=(v1.sortby(v1)).t[:3])

    every = raw_bands(connection, ["B04"], tmp_path / "every.nc", dates=YEAR)
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=YEAR, max_cloud_cover=10)
    assert 5 <= raw.sizes["t"] < every.sizes["t"], "the cloudy dates are left out"
    cloudy = dilation_masks(connection, tmp_path / "scl.nc", raw, YEAR, max_cloud_cover=10)
    # the data keeps the dates whose mask leaves a pixel (DatacubeSupport prepareMask)
    clear = cloudy["t"].values[~cloudy.values.all(axis=(1, 2))]
    np.testing.assert_array_equal(var["t"].values, clear)
    raw, cloudy = raw.sel(t=clear), cloudy.sel(t=clear)
    r, n = (raw[b].values.astype(np.float32) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        want = np.where(cloudy.values, np.nan, (n - r) / (n + r))
    np.testing.assert_array_equal(np.isnan(var.values), np.isnan(want))
    # 6-09 and 7-02 pass the cloud filter only in tile 31TGL, warped from UTM zone 31:
    # GDAL's approximate transform (0.125 px) may pick another nearest pixel for a few
    # pixels when the extent read differs, as the reference's here does
    off = ~np.isclose(var.values, want, rtol=1e-6, equal_nan=True)
    assert off.sum() <= 5, f"{off.sum()} pixels differ"
    share = np.isnan(want).mean(axis=(1, 2))
    assert share.max() > 0 and share.min() < 0.05
    np.testing.assert_array_equal(var1["t"].values, clear[np.argsort(share, kind="stable")[:3]])


@pytest.mark.slow
def test_land_cover_statistics_weighted_class_sums_as_parquet(
    connection: Any, tmp_path: Path
) -> None:
    """python/LandCoverStatistics/land_cover_country_lcfm.ipynb (its Terrascope branch:
    the regions inline), the land-cover map ``LCFM_LCM_10``/``MAP`` read as
    ``SENTINEL2_L2A``/``SCL`` (so only SCL 10, thin cirrus, matches a legend value,
    ``Tree_Cover``), two fields as the NUTS regions: a load without extent reduced with
    ``first``, ``apply_dimension`` over bands returning ``array_create`` of twelve
    comparisons, ``apply(x * 1)``, ``rename_labels``, the cos(latitude) UDF adding a
    ``_weight`` band (on a UTM cube its ``y`` are metres: cos of float32 radians, as
    Copernicus hands the UDF float32 coordinates), ``aggregate_spatial(geoms, "sum")``,
    ``execute_batch(out_format="Parquet", feature_id_property=...)`` and the
    ``timeseries.parquet`` asset: the regions' columns, ``feature_index``, the bands."""
    import geopandas as gpd
    import openeo
    import openeo.processes as eop
    import pandas as pd

    spatial_geometries = gpd.GeoDataFrame.from_features(FIELDS["features"], crs="EPSG:4326")
    spatial_geometries = spatial_geometries.drop(columns=["name", "area_ha"]).assign(
        NUTS_ID=["BE21", "BE22"], NUTS_NAME=["Prov. Antwerpen", "Prov. Limburg (BE)"]
    )

    def lcfm_to_masks(bands: Any) -> Any:
        lcfm_list = [bands[0] == value for value in LCFM_LEGEND.values()]
        return eop.array_create(lcfm_list)

    lcfm = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=SEASON, bands=["SCL"]
    ).reduce_dimension(dimension="t", reducer="first")
    classified = (
        lcfm.apply_dimension(dimension="bands", process=lcfm_to_masks)
        .apply(lambda x: x * 1)
        .rename_labels(dimension="bands", target=list(LCFM_LEGEND.keys()))
    )
    geoms = eval(spatial_geometries.to_json())  # the notebook's own call
    _add_cos_lat_weight = openeo.UDF(COS_LAT_UDF)
    classified = classified.apply_dimension(
        process=_add_cos_lat_weight, dimension="bands"
    ).rename_labels(dimension="bands", target=list(LCFM_LEGEND.keys()) + ["_weight"])  # noqa: RUF005 - as published
    average = classified.aggregate_spatial(geoms, "sum")
    job = average.execute_batch(
        out_format="Parquet",
        title="land-cover-lcfm_nuts_BE",
        feature_id_property="NUTS_ID",
        job_options={},
    )
    result_file = tmp_path / "timeseries_nuts_BE.parquet"
    job.get_results().get_asset("timeseries.parquet").download(result_file)
    df = pd.read_parquet(result_file)

    legend = list(LCFM_LEGEND)
    assert list(df.columns) == [
        "geometry",
        "NUTS_ID",
        "NUTS_NAME",
        "feature_index",
        *legend,
        "_weight",
    ]
    assert df["NUTS_ID"].tolist() == ["BE21", "BE22"]
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", dates=SEASON)
    first = raw["SCL"].values[0]
    # thin cirrus on the first date, outside the fields: their class sums are 0
    assert np.isfinite(first).all() and (first == 10).any()
    y = raw["y"].values.astype(np.float32)
    weight = np.broadcast_to(np.cos(np.deg2rad(y)).clip(min=0)[:, None], first.shape)
    for (_, row), feature in zip(df.iterrows(), FIELDS["features"], strict=True):
        inside = pixels_inside(raw, feature["geometry"])
        assert inside.sum() > 10
        want = {
            name: (weight * (first == value))[inside].sum() for name, value in LCFM_LEGEND.items()
        }
        want["_weight"] = weight[inside].astype(np.float64).sum()
        np.testing.assert_allclose(
            row[[*legend, "_weight"]].to_numpy(float), list(want.values()), rtol=1e-5
        )
    assert (df["_weight"] > 0).all()
    # float64 cos of the metres would give other weights
    y64 = np.cos(np.deg2rad(raw["y"].values)).clip(min=0)
    assert not np.allclose(np.cos(np.deg2rad(y)).clip(min=0), y64, atol=1e-3)
