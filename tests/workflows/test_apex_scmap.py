"""ESA APEx ``algorithm_catalog/dlr/scmap/openeo_udp/generate.py`` (DLR's bare surface
composite, SCMaP) run unchanged against ``hybrid serve``: its ``composite()`` executed
from the checkout named by ``HYBRID_APEX_ALGORITHMS`` (skipped without one) with only
the connection, extent, dates and two inputs substituted: ``ESA_WORLDCOVER_10M_2021_V2``
/ ``MAP`` by one day's ``SENTINEL2_L2A`` / ``SCL`` (its classes 50 and 80, bare and
wetland, never occur there: no pixel is masked by them) and the threshold image's STAC
URL by a static collection of our own on the composite's 20 m grid.

The composite is checked band by band against numpy on the 20 m bands the server loads
(``resample_spatial(20, "average")``, checked in ``tests/workflows/test_cdse_benchmarks.py``),
read over a wider box so the 11 x 11 cloud dilation sees real neighbours at the edges,
as Copernicus's buffered load gives them (6 pixels of 20 m: ``load_params.py`` L152-168).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX
from tests.workflows.test_apex_developmentseed import CATALOG_ENV, catalogue_json, pytestmark
from tests.workflows.test_apex_udp_scripts import COVER_DAY

__all__ = ["CATALOG_ENV", "pytestmark"]

_SCRIPT = "algorithm_catalog/dlr/scmap/openeo_udp/generate.py"
_THRESHOLD_URL = (
    "https://raw.githubusercontent.com/Schiggebam/dlr_scmap_resources/refs/heads/main/"
    "th_S2_s2cr_buffered_stac_yflip_no_t.json"
)
#: a season of the sample: enough clear dates for the composite's three; from 10 June,
#: after the day whose two orbits a wider load picks otherwise (tests/workflows/raw.py)
SEASON = ["2023-06-10", "2023-10-01"]
S2_BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]


def _composite(collection: Path) -> Any:
    """``composite`` of the published script, its inputs substituted (module doc)."""
    source = catalogue_json(_SCRIPT)
    for old, new in [
        ('"ESA_WORLDCOVER_10M_2021_V2",', f'"SENTINEL2_L2A", temporal_extent={COVER_DAY!r},'),
        ('bands=["MAP"],', 'bands=["SCL"],'),
        ('worldcover.band("MAP")', 'worldcover.band("SCL")'),
        (_THRESHOLD_URL, collection.as_uri()),
    ]:
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "scmap_generate"}
    exec(compile(source, _SCRIPT, "exec"), namespace)
    return namespace["composite"]


def _threshold(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The threshold image at UTM 32N pixel centres ``x``, ``y``: pvir2 (NDVI + NBR)
    from 0.5 at the field's north-west corner to 1.7 at its south-east one."""
    fx = (x - 316300.0) / 700.0
    fy = (5012750.0 - y) / 920.0
    return (0.5 + 0.6 * fx[None, :] + 0.6 * fy[:, None]).astype(np.float32)


def _threshold_collection(root: Path, grid: xr.Dataset) -> Path:
    """One item (2020-01-01) holding ``_threshold`` on ``grid``'s 20 m pixels."""
    import datetime as dt

    import pystac
    import rasterio
    from rasterio.transform import from_origin

    xs, ys = grid["x"].values, grid["y"].values
    path = root / "threshold.tif"
    profile = {"driver": "COG", "height": ys.size, "width": xs.size, "count": 1}
    profile.update(dtype="float32", crs="EPSG:32632", nodata=float("nan"))
    profile.update(transform=from_origin(xs[0] - 10, ys[0] + 10, 20, 20))
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(_threshold(xs, ys)[None])
    box = [6.650, 45.230, 6.678, 45.250]
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    extent = pystac.Extent(pystac.SpatialExtent([box]), pystac.TemporalExtent([[when, None]]))
    stac = pystac.Collection(id="th_S2_s2cr", description="test", extent=extent)
    item = pystac.Item("threshold", None, box, when, {})
    fields = {"eo:bands": [{"name": "S2_s2cr_pvir2_threshold_img"}], "proj:epsg": 32632}
    fields["proj:bbox"] = [float(v) for v in (xs[0] - 10, ys[-1] - 10, xs[-1] + 10, ys[0] + 10)]
    fields["proj:shape"] = [int(ys.size), int(xs.size)]
    asset = pystac.Asset(str(path), media_type=pystac.MediaType.COG, roles=["data"])
    asset.extra_fields.update(fields)
    item.add_asset("S2_s2cr_pvir2_threshold_img", asset)
    stac.add_item(item)
    stac.normalize_hrefs(str(root))
    stac.save(pystac.CatalogType.SELF_CONTAINED)
    return root / "collection.json"


def _bands_at_20_m(connection: Any, path: Path, bbox: dict[str, float]) -> xr.Dataset:
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=bbox, temporal_extent=SEASON,
        bands=[*S2_BANDS, "SCL", "sunZenithAngles"], max_cloud_cover=80,
    ).resample_spatial(resolution=20, method="average")  # fmt: skip
    cube.download(path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _clear(wide: xr.Dataset, like: xr.Dataset) -> xr.Dataset:
    """The S2 bands with the script's three masks (sun zenith > 70, nine SCL classes, the
    cloud classes dilated by an 11 x 11 box > 0.01: FFT, no data as 0) on ``like``'s grid."""
    from scipy.ndimage import convolve

    scl = wide["SCL"].values
    cloud = np.isin(scl, [3, 8, 9, 10]).astype(np.float64)
    dilated = np.stack([convolve(c, np.ones((11, 11)), mode="constant") for c in cloud]) > 0.01
    masked = (wide["sunZenithAngles"].values > 70) | np.isin(scl, [0, 1, 2, 3, 7, 8, 9, 10, 11])
    drop = xr.DataArray(masked | dilated, dims=("t", "y", "x"), coords=wide["SCL"].coords)
    drop = drop.sel(x=like["x"], y=like["y"])
    return like[S2_BANDS].where(~drop)


def _without_outliers(cube: xr.Dataset, sigma: float) -> xr.Dataset:
    """The script's ``nmad``: B02 above median + sigma x 1.4826 MAD and above median + 80
    masks every band, in float32 (the cube is float32: the angle band it was loaded with,
    and pvir2 merged in; README, cell types)."""
    b02 = cube["B02"].values.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(b02, axis=0)
        nmad = np.nanmedian(np.abs(b02 - med), axis=0) * np.float32(1.4826)
    upper = med + np.float32(sigma) * nmad
    return cube.where(~((b02 > upper) & (b02 > med + np.float32(80.0))))


def _mean_sd(cube: xr.Dataset, names: tuple[str, str]) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {f"{names[0]}_{b}": np.nanmean(cube[b].values, axis=0) for b in S2_BANDS}
        out |= {f"{names[1]}_{b}": np.nanstd(cube[b].values, axis=0, ddof=1) for b in S2_BANDS}
    return out


def _composite_reference(clear: xr.Dataset) -> dict[str, np.ndarray]:
    """Every band of the composite with MREF and MASK (the callers pick theirs)."""
    b04, b08, b12 = (clear[b].values for b in ("B04", "B08", "B12"))
    with np.errstate(all="ignore"):
        pvir2 = (b08 - b04) / (b08 + b04) + (b08 - b12) / (b08 + b12)
    vpc = np.isfinite(clear["B02"].values).sum(axis=0).astype(np.float64)
    vpc[vpc == 0] = np.nan  # count: no data where no date has a value (README, cell types)
    th = _threshold(clear["x"].values, clear["y"].values)
    bare = _without_outliers(clear.where(~(pvir2 > th)), 3.0)  # pvir2 > th: vegetation
    bsc = np.isfinite(bare["B02"].values).sum(axis=0).astype(np.float64)
    out = _mean_sd(bare.where(xr.DataArray(bsc >= 3, dims=("y", "x"))), ("SRC", "SRC-STD"))
    out |= _mean_sd(_without_outliers(clear, 4.0), ("MREF", "MREF-STD"))
    bsc[bsc < 3] = np.nan
    # MASK: 2 (is_perm_veg, never 0) replaced by 1 where more than 2 bare dates; the
    # WorldCover classes of is_other are none of SCL's
    return out | {"VPC": vpc, "BSC": bsc, "BSF": bsc / vpc, "MASK": np.where(bsc > 2, 1.0, 2.0)}


def _bands(extra: bool) -> list[str]:
    names = [f"SRC_{b}" for b in S2_BANDS] + [f"SRC-STD_{b}" for b in S2_BANDS] + ["VPC", "BSC"]
    if extra:
        names += [f"MREF_{b}" for b in S2_BANDS] + [f"MREF-STD_{b}" for b in S2_BANDS]
    return [*names, "BSF", *(["MASK"] if extra else [])]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [False, True], ids=["composite", "with-mref-and-mask"])
def test_scmap_bare_surface_composite(connection: Any, tmp_path: Path, extra: bool) -> None:
    """``composite()`` as a batch job, without and with the optional MREF and MASK
    products (the script's ``test_setup_tiny``): the bands of one GeoTIFF (SRC and
    SRC-STD of ten bands, VPC valid dates, BSC bare dates, MREF and MREF-STD, BSF their
    ratio, MASK) in the order its ``merge_cubes`` chain and ``rename_labels`` give them,
    each against numpy: the masks above, pvir2 > the threshold as vegetation, B02
    outliers by NMAD over t in ``apply_dimension``, fewer than three bare dates masked,
    mean and sample sd over t; MASK from ``any`` over t, ``not``, ``round``, ``mask``
    with replacements."""
    import rasterio

    w, s, e, n = (BBOX[k] for k in ("west", "south", "east", "north"))
    wide = {"west": w - 0.003, "south": s - 0.003, "east": e + 0.003, "north": n + 0.003}
    around = _bands_at_20_m(connection, tmp_path / "wide.nc", wide)
    composite = _composite(_threshold_collection(tmp_path, around))
    cube = composite(
        con=connection, temporal_extent=SEASON, spatial_extent=BBOX, max_cloud_cover=80,
        nmad_sigma=3.0, max_sun_zenith_angle=70.0, compute_mref=extra, compute_mask=extra,
    )  # fmt: skip
    job = cube.create_job(title="scmap_composite")
    job.start_and_wait()
    job.get_results().download_files(tmp_path / "out")
    with rasterio.open(tmp_path / "out" / "openEO.tif") as ds:
        names, got = ds.descriptions, ds.read()
        assert ds.res == (20.0, 20.0) and ds.dtypes[0] == "float32"
        xs = ds.transform.c + 10.0 + 20.0 * np.arange(ds.width)
        ys = ds.transform.f - 10.0 - 20.0 * np.arange(ds.height)

    assert list(names) == _bands(extra)
    want = _composite_reference(_clear(around, around.sel(x=xs, y=ys)))
    assert got.shape[1:] == want["VPC"].shape
    np.testing.assert_array_equal(got[names.index("VPC")], want["VPC"])
    bsc = got[names.index("BSC")]
    np.testing.assert_array_equal(bsc, want["BSC"])
    assert 0.05 < np.isfinite(bsc).mean() < 0.9, "some pixels are bare on >= 3 dates"
    for name in names:
        np.testing.assert_allclose(got[names.index(name)], want[name], rtol=2e-6, err_msg=name)
