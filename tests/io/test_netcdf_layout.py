"""hybrid's NetCDF results against a real Copernicus batch result (../shared/cdse/real-job).

Structure is compared with :mod:`hybrid.io.layout`: format, dims, variable names, dtypes,
attribute names, compression and chunking. Attribute values are job-specific (WKT text,
institution version, title) and so are not compared.
"""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pyproj
import pytest
import xarray as xr

from hybrid.io.layout import describe, differences
from hybrid.io.netcdf import annotate, write_netcdf
from hybrid.io.netcdf_layout import band_chunks, default_chunks
from hybrid.testing import synthetic_result


@pytest.fixture(scope="module")
def real_job(shared_dir: Path) -> Path:
    path = shared_dir / "cdse" / "real-job" / "openEO.nc"
    if not path.is_file():
        pytest.skip("../shared/cdse/real-job/openEO.nc is absent")
    return path


def test_chunk_shapes_follow_netcdf_java():
    # Nc4ChunkingDefault by hand: 256 KiB of float32 = 65536 elements, filled from the right;
    # an unlimited variable under 8192 elements is stretched along t (2048 int32 for t alone)
    assert default_chunks((0,), 4, unlimited=True) == (2048,)
    assert default_chunks((0, 431, 175), 4, unlimited=True) == (1, 65536 // 175, 175)
    assert default_chunks((0, 10, 10), 4, unlimited=True) == (2048 // 100, 10, 10)
    assert default_chunks((0, 60, 60), 4, unlimited=True) == (1, 60, 60)
    # OpenEOChunking's _ChunkSizes once the raster exceeds 256 px both ways
    assert band_chunks(260, 292, 2, with_time=True) == (1, 256, 256)
    assert band_chunks(300, 400, 4, with_time=False) == (256, 256)
    # small 2-D variables stay contiguous (<= 64 KiB)
    assert band_chunks(100, 100, 4, with_time=False) is None


def test_copernicus_result_rewritten_by_hybrid_keeps_layout_and_bits(real_job, tmp_path):
    """The real job's own cube (int16 B02/B03/B04, one date, 260 x 292, EPSG:32631) through
    hybrid's writer gives Copernicus's layout exactly, and the same int16 values."""
    with xr.open_dataset(real_job, mask_and_scale=False, decode_times=True) as ds:
        cube = xr.concat([ds[b] for b in ("B02", "B03", "B04")], dim="bands").load()
        wkt = ds["crs"].attrs["crs_wkt"]
    cube = cube.assign_coords(bands=["B02", "B03", "B04"]).transpose("t", "bands", "y", "x")
    cube.attrs = {"crs_wkt": wkt, "_FillValue": -32768}
    ours = write_netcdf(cube, tmp_path / "openEO.nc")

    assert differences(describe(real_job), describe(ours), sizes=True) == []
    with netCDF4.Dataset(real_job) as a, netCDF4.Dataset(ours) as b:
        assert a.data_model == b.data_model == "NETCDF4_CLASSIC"
        for name in ("t", "x", "y", "B02", "B03", "B04"):
            a[name].set_auto_mask(False)
            b[name].set_auto_mask(False)
            np.testing.assert_array_equal(a[name][:], b[name][:])
            assert a[name].dtype == b[name].dtype
        for name in ("t", "x", "y"):
            for attr in a[name].ncattrs():
                assert a[name].getncattr(attr) == b[name].getncattr(attr)
        assert b["B02"].getncattr("_FillValue") == -32768
        assert b["B02"].long_name == "B02" and b["B02"].units == ""
        assert b.Conventions == "CF-1.9" and b.title == "" and b.description == ""
        assert pyproj.CRS.from_wkt(b["crs"].spatial_ref).to_epsg() == 32631


@pytest.mark.slow
def test_hybrid_run_netcdf_has_the_copernicus_layout(real_job, tmp_path):
    """``hybrid run`` (NDVI: one float32 variable ``var``) against the real file: only what
    the job decides differs (variable name, dtype, size-dependent chunk shape)."""
    from hybrid.cli import main

    out = tmp_path / "ndvi.nc"
    args = ["run", "--quiet", "--out", str(out), "--start", "2023-06-01", "--end", "2023-07-01"]
    assert main(args) == 0
    real, ours = describe(real_job), describe(out)
    job_specific = {
        "variables only in A: B02, B03, B04",
        "variables only in B: var",
    }
    assert set(differences(real, ours)) == job_specific
    assert real.format == ours.format == "NETCDF4_CLASSIC"
    assert [(n, u) for n, _s, u in ours.dims] == [("t", True), ("y", False), ("x", False)]
    band, var = real.variables["B02"], ours.variables["var"]
    assert var.dims == band.dims and var.compression == band.compression == "zlib/6"
    assert sorted(var.attributes) == sorted(band.attributes)
    assert var.dtype == "float32"
    ny, nx = (size for name, size, _u in ours.dims if name != "t")
    expected = (1, 256, 256) if ny > 256 and nx > 256 else (1, min(ny, 65536 // nx), nx)
    assert var.chunks == expected
    with netCDF4.Dataset(out) as ds:
        assert ds.getncattr("hybrid_stac_source") == "embedded sample"
        assert ds["crs"].dtype == "S1" and set(ds["crs"].ncattrs()) == {"crs_wkt", "spatial_ref"}
        assert ds["crs"].crs_wkt.startswith("PROJCS[")  # WKT1, as Copernicus writes it
        assert "calendar" not in ds["t"].ncattrs()
        assert np.isnan(ds["var"].getncattr("_FillValue"))


def test_annotate_keeps_the_file_classic(tmp_path):
    path = write_netcdf(synthetic_result(), tmp_path / "openEO.nc", attrs={"hybrid_a": "1"})
    annotate(path, {"hybrid_excluded_dates": "2023-05-02", "hybrid_n": 3})
    with netCDF4.Dataset(path) as ds:
        assert ds.data_model == "NETCDF4_CLASSIC"
        assert ds.getncattr("hybrid_excluded_dates") == "2023-05-02"
        assert ds.getncattr("hybrid_n") == 3
        assert ds.ncattrs()[:4] == ["Conventions", "institution", "description", "title"]


def test_times_off_midnight_are_int_seconds(tmp_path):
    cube = synthetic_result(dates=("2023-05-01", "2023-05-02"))
    cube = cube.assign_coords(t=cube["t"].values + np.timedelta64(37800, "s"))
    path = write_netcdf(cube, tmp_path / "openEO.nc")
    with netCDF4.Dataset(path) as ds:
        assert ds["t"].units == "seconds since 1990-01-01T00:00:00Z"
        assert ds["t"].dtype == np.int32
        assert ds["t"][0] == (np.datetime64("2023-05-01T10:30") - np.datetime64("1990-01-01")) / (
            np.timedelta64(1, "s")
        )


def test_file_metadata_option_sets_the_globals(tmp_path):
    options = {"file_metadata": {"title": "NDVI", "description": "monthly", "project": "x"}}
    path = write_netcdf(synthetic_result(), tmp_path / "openEO.nc", options=options)
    with netCDF4.Dataset(path) as ds:
        assert (ds.title, ds.description, ds.project) == ("NDVI", "monthly", "x")
        assert ds.institution.startswith("hybrid openEO engine - ")


def test_block_wise_writes_equal_the_whole_cube_writes(tmp_path):
    """The writer takes row blocks in any order (as a streaming engine would hand them)
    and gives the same layout and values."""
    import pyproj as _pyproj

    from hybrid.io.netcdf_layout import RasterLayout, create_raster_netcdf

    cube = synthetic_result(shape=(300, 280))
    whole = write_netcdf(cube, tmp_path / "whole.nc")
    layout = RasterLayout(
        x=cube["x"].values,
        y=cube["y"].values,
        times=cube["t"].values,
        variables=("var",),
        crs=_pyproj.CRS.from_epsg(32632),
    )
    streamed = tmp_path / "streamed.nc"
    globals_ = {"Conventions": "CF-1.9", "institution": "x", "description": "", "title": ""}
    with create_raster_netcdf(streamed, layout, globals_=globals_) as out:
        for t in reversed(range(cube.sizes["t"])):
            for row in (256, 0):
                block = cube.isel(t=t).values[row : row + 256]
                out.write("var", block, t=t, row=row)
    assert differences(describe(whole), describe(streamed), sizes=True) == []
    with netCDF4.Dataset(whole) as a, netCDF4.Dataset(streamed) as b:
        np.testing.assert_array_equal(a["var"][:].filled(np.nan), b["var"][:].filled(np.nan))
        assert b["var"].chunking() == [1, 256, 256]


def test_text_time_labels_are_refused_with_one_line(tmp_path):
    """On Copernicus t labels are always dates (rename_labels keeps them, aggregate_temporal
    parses its labels): a cube labelled by text is FormatUnsuitable for netCDF/GTiff."""
    from hybrid.errors import FormatUnsuitable
    from hybrid.io.gtiff import write_gtiff

    cube = synthetic_result(dates=("2023-05-01", "2023-05-02"))
    texts = cube.assign_coords(t=np.array(["spring", "2023-05-02"], dtype=object))
    for write in (write_netcdf, write_gtiff):
        with pytest.raises(FormatUnsuitable, match="'spring' is not a date"):
            write(texts, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # date text is written as the dates
    dated = cube.assign_coords(t=np.array(["2023-05-01", "2023-05-02"], dtype=object))
    path = write_netcdf(dated, tmp_path / "openEO.nc")
    with netCDF4.Dataset(path) as ds:
        assert list(ds["t"][:]) == [12173, 12174]


@pytest.mark.parametrize("shape", [(6, 8), (300, 280)])
def test_an_int32_result_has_no_fill_value_attribute(tmp_path, shape):
    """Copernicus's writer leaves ``_FillValue`` out when it is Integer.MIN_VALUE, the
    int32 nodata (NetCDFRDDWriter.scala ``addNetcdfVariable`` L758): a count over time
    is read back with -2**31 where a pixel has no value (it was masked here); int16
    keeps its -32768 fill. Small (netCDF-C) and 256-px-chunked (direct) writes alike."""
    from hybrid.io.cube import CELL_TYPE

    cube = synthetic_result(shape=shape)
    counts = xr.where(cube.isnull(), np.nan, np.round(cube * 10 + 3)).astype("float32")
    for dtype, nodata, has_fill in (("int32", -(2**31), False), ("int16", -32768, True)):
        typed = counts.assign_attrs({CELL_TYPE: (dtype, nodata)})
        path = write_netcdf(typed, tmp_path / f"{dtype}.nc")
        with netCDF4.Dataset(path) as ds:
            var = ds["var"]
            assert var.dtype == np.dtype(dtype)
            assert ("_FillValue" in var.ncattrs()) is has_fill
            var.set_auto_mask(False)
            values = var[:]
        assert values[0, 0, 0] == nodata
        np.testing.assert_array_equal(values[:, 1:, 1:], counts.values[:, 1:, 1:])
