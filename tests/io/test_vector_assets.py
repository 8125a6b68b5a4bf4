"""The asset fields of a saved aggregate_spatial result (hybrid.io.vector_assets): the
cube's bands, and the statistics Copernicus computes from its intermediate CSV, checked
against that computation run on the ``timeseries.csv`` written here (pandas, as
openeo-python-driver save_result.py ``AggregatePolygonResultCSV.get_data`` L725-739)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hybrid.io.vector import GEOMETRIES_ONLY
from hybrid.io.vector_assets import STATISTICS, vector_asset_fields
from tests.engine import test_vector_cubes as cubes

#: the bands as Copernicus's results document lists them: name and the collection's
#: common name (openeo-python-driver views.py ``_asset_object`` L1838-1860)
EO_BANDS = [{"name": "B04", "common_name": "red"}, {"name": "B08", "common_name": "nir"}]


def copernicus_statistics(csv_file: Path) -> list[dict[str, float]]:
    """get_data's statistics of each band column of a timeseries.csv."""
    df = pd.read_csv(csv_file)
    found = []
    for band in df.columns[2:].values:
        series = df[band]
        found.append(
            {
                "mean": series.mean(),
                "minimum": series.min(),
                "maximum": series.max(),
                "stddev": series.std(),
                "valid_percent": 100.0 * len(series.dropna()) / len(series),
            }
        )
    return found


@pytest.mark.parametrize("layout", ["JSON", "CovJSON", "netCDF", "Parquet", "GTiff"])
def test_a_time_series_asset_has_its_bands_and_the_csv_rows_statistics(
    layout: str, series_cube: xr.DataArray, tmp_path: Path
) -> None:
    fields = vector_asset_fields(series_cube, layout)
    assert fields["bands"] == [{"name": "B04"}, {"name": "B08"}]
    assert fields["eo:bands"] == EO_BANDS
    want = copernicus_statistics(cubes.write_vector_cube(series_cube, "CSV", tmp_path))
    got = [entry["statistics"] for entry in fields["raster:bands"]]
    assert [list(s) for s in got] == [list(STATISTICS)] * 2
    for mine, theirs in zip(got, want, strict=True):
        assert mine == pytest.approx(theirs, rel=1e-12)
    # the field covering no pixel centre has no rows: every row of the other two counts
    assert got[0]["valid_percent"] == pytest.approx(
        100.0 * np.isfinite(series_cube[:2, :, 0]).mean()
    )


def test_a_csv_asset_has_its_bands_and_no_statistics(series_cube: xr.DataArray) -> None:
    fields = vector_asset_fields(series_cube, "CSV")
    assert fields == {"bands": [{"name": "B04"}, {"name": "B08"}], "eo:bands": EO_BANDS}


def test_without_a_band_dimension_there_are_no_bands_and_one_column(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    ndvi = series_cube.sel(bands="B04", drop=True)
    fields = vector_asset_fields(ndvi, "JSON")
    assert "bands" not in fields and "eo:bands" not in fields
    (want,) = copernicus_statistics(cubes.write_vector_cube(ndvi, "CSV", tmp_path))
    assert fields["raster:bands"] == [{"statistics": pytest.approx(want, rel=1e-12)}]


def test_a_band_without_any_value_has_null_statistics(series_cube: xr.DataArray) -> None:
    empty = series_cube.copy(data=series_cube.values.copy())
    empty.loc[{"bands": "B08"}] = np.nan
    _, b08 = vector_asset_fields(empty, "JSON")["raster:bands"]
    assert b08["statistics"] == {name: None for name in STATISTICS[:-1]} | {"valid_percent": 0.0}


def test_without_time_only_the_bands(series_cube: xr.DataArray) -> None:
    per_field = series_cube.isel(t=0, drop=True)
    assert vector_asset_fields(per_field, "JSON") == {
        "bands": [{"name": "B04"}, {"name": "B08"}],
        "eo:bands": EO_BANDS,
    }


def test_a_vector_cube_that_is_not_an_aggregate_has_no_fields(series_cube: xr.DataArray) -> None:
    geometries = series_cube.assign_attrs({GEOMETRIES_ONLY: True})
    assert vector_asset_fields(geometries, "JSON") == {}


def test_a_band_not_of_the_collection_has_its_name_only(series_cube: xr.DataArray) -> None:
    renamed = series_cube.assign_coords(bands=["B04", "NDVI"])
    assert vector_asset_fields(renamed, "CSV")["eo:bands"] == [EO_BANDS[0], {"name": "NDVI"}]
