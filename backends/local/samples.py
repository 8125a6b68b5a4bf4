"""save_result's ``sample_by_feature``: one file per feature of a batch job's filter_spatial.

Copernicus hands a batch job's save_result the geometries of the graph's last
filter_spatial when its options ask for ``sample_by_feature``
(openeo-geopyspark-driver ``deploy/batch_job.py`` L417-426; here
:mod:`hybrid.server.sample_features` does it) and writes one file per feature
(``geopysparkdatacube.py`` L2593-2624 netCDF, L2347-2370 GTiff):

- the feature's pixels, the others nodata (``tile.mask(keyExtent, geometry)``), in the
  feature's bounds widened to whole pixels (openeo-geotrellis-extensions
  ``NetCDFRDDWriter.scala`` ``stitchAndCropTiles``: ``createAlignedGridExtent``);
- only the dates with data (empty tiles are dropped before the grouping by feature,
  ``filterEmptyTile``; here: the dates without any value in the sample);
- named ``{prefix}_{label}.nc`` (``getSamplePath``) or ``{prefix}_{date}_{label}.tif``
  (``geotiff/package.scala`` L818), the label being the feature's index or its
  ``feature_id_property`` (``get_labels``, geopysparkdatacube.py L2753-2772).

A synchronous request writes one file, as on Copernicus (no ``batch_mode`` there).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import PIXEL_SIZE, kept_pixels, pixel_step
from hybrid.io.format import option_flag


def sample_request(options: dict[str, Any]) -> tuple[Any, str | None] | None:
    """(geometries, feature_id_property) when a batch job asks for one file per feature,
    else None; the sampling options are removed from ``options`` either way."""
    wanted = option_flag(options.pop("sample_by_feature", False))
    id_property = options.pop("feature_id_property", None)
    batch = "geometries" in options
    geometries = options.pop("geometries", None)
    if not (wanted and batch):
        return None
    if geometries is None:
        raise ProcessParameterInvalid(
            "save_result: sample_by_feature writes one file per geometry of a filter_spatial "
            "before it, and the process graph has none: add filter_spatial(geometries=...)"
        )
    return geometries, None if id_property is None else str(id_property)


def _labels(features: Any, id_property: str | None) -> list[str]:
    count = len(features.geometries)
    if id_property is not None:
        values = [props.get(id_property) for props in features.properties]
        if all(v is not None for v in values):
            return [str(v) for v in values]
    return [str(i) for i in range(count)]


def feature_samples(cube: Any, geometries: Any, id_property: str | None) -> list[tuple[str, Any]]:
    """(label, the cube of one feature) for every feature with data, in feature order."""
    import xarray as xr

    from hybrid.backends.local.processes.vector import coverage_mask
    from hybrid.geometries import Features, read_features

    features = read_features(geometries, process="save_result")
    crs = cube.attrs["crs_wkt"]
    x, y = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
    half_x, half_y = abs(pixel_step(x, PIXEL_SIZE)) / 2, abs(pixel_step(y, PIXEL_SIZE)) / 2
    out = []
    for label, geometry in zip(_labels(features, id_property), features.to_crs(crs), strict=True):
        minx, miny, maxx, maxy = geometry.bounds
        keep_x = (x + half_x > minx) & (x - half_x < maxx)
        keep_y = (y + half_y > miny) & (y - half_y < maxy)
        if not keep_x.any() or not keep_y.any():
            continue
        window = {"x": kept_pixels(keep_x), "y": kept_pixels(keep_y)}
        sample = cube.isel(window).compute()  # one feature's window only
        one = Features((geometry,), ({},), crs)
        covered = coverage_mask(sample.assign_attrs(crs=crs), one, "save_result")
        sample = sample.where(xr.DataArray(covered, dims=("y", "x"))).transpose(*cube.dims)
        if "t" in sample.dims:
            others = [d for d in sample.dims if d != "t"]
            sample = sample.isel(t=np.flatnonzero(sample.notnull().any(dim=others).values))
        if not sample.notnull().any():
            continue
        sample.attrs = dict(cube.attrs)
        sample.name = cube.name
        out.append((label, sample))
    return out


def write_samples(
    cube: Any,
    request: tuple[Any, str | None],
    out_dir: Path,
    write: Callable[[Any, Path], list[Path]],
    prefix: str,
) -> list[Path]:
    """Every feature's sample written by ``write`` (into a folder of its own), its files
    renamed as Copernicus names them."""
    files: list[Path] = []
    for label, sample in feature_samples(cube, *request):
        folder = Path(tempfile.mkdtemp(prefix=".sample-", dir=out_dir))
        try:
            for written in write(sample, folder):
                stem = written.name.removesuffix(written.suffix)
                if written.suffix == ".tif":  # {prefix}_{date}.tif -> {prefix}_{date}_{label}.tif
                    name = f"{stem}_{label}{written.suffix}"
                else:  # {prefix}.nc -> {prefix}_{label}.nc
                    name = f"{prefix}_{label}{written.suffix}"
                target = Path(out_dir) / name
                written.replace(target)
                files.append(target)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if not files:
        raise ProcessParameterInvalid(
            "save_result: sample_by_feature found no data inside any of the filter_spatial "
            "geometries"
        )
    return files
