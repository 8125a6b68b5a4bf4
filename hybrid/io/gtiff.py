"""GeoTIFF results: one ``openEO_YYYY-MM-DDZ.tif`` per time label, as Copernicus writes them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.errors import UsageError
from hybrid.io.cube import cube_crs, normalise
from hybrid.io.format import Format

if TYPE_CHECKING:
    import xarray as xr

#: ``openEO_2023-05-01Z.tif`` (Copernicus), also without ``Z`` or with a time
GTIFF_NAME = re.compile(r"^openEO_(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+)?Z?\.tiff?$", re.IGNORECASE)


def write_gtiff(
    cube: xr.DataArray,
    folder: str | Path,
    *,
    attrs: Mapping[str, Any] | None = None,
    prefix: str = "openEO",
) -> list[Path]:
    """Write a normalised cube as Copernicus's GTiff layout: one ``openEO_YYYY-MM-DDZ.tif``
    per label (float32, NaN nodata, deflate), band names in the DESCRIPTION tags.
    ``prefix`` replaces ``openEO`` (save_result's ``filename_prefix``)."""
    import numpy as np
    import rasterio
    from affine import Affine

    from hybrid.io.provenance import attribute_value

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x, y = cube["x"].values, cube["y"].values
    dx = float(x[1] - x[0]) if x.size > 1 else 10.0
    dy = float(y[1] - y[0]) if y.size > 1 else -10.0
    transform = Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)
    bands = [str(b) for b in cube["bands"].values] if "bands" in cube.dims else [str(cube.name)]
    crs = cube_crs(cube)
    layers = cube if "t" in cube.dims else cube.expand_dims(t=[None])
    tags = {str(k): str(attribute_value(v)) for k, v in (attrs or {}).items()}
    written = []
    for label in layers["t"].values:
        layer = layers.sel(t=label) if label is not None else layers.isel(t=0)
        data = layer.transpose(..., "y", "x").values.astype("float32").reshape(-1, y.size, x.size)
        name = f"{prefix}_{str(label)[:10]}Z.tif" if label is not None else f"{prefix}.tif"
        profile = {"driver": "GTiff", "width": x.size, "height": y.size, "count": len(bands)}
        profile.update(dtype="float32", transform=transform, nodata=np.nan, compress="deflate")
        with (
            atomic_path(folder / name) as tmp,
            rasterio.open(tmp, "w", crs=crs.to_wkt() if crs else None, **profile) as dst,
        ):
            dst.write(data)
            if tags:
                dst.update_tags(**tags)
            for index, band in enumerate(bands, start=1):
                dst.set_band_description(index, band)
        written.append(folder / name)
    return written


def write_raster(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's raster writer."""
    from hybrid.io.format import filename_prefix

    return write_gtiff(cube, out_dir, attrs=attrs, prefix=filename_prefix(options))


def annotate(file: Path, attrs: Mapping[str, Any]) -> None:
    """Add dataset-level GDAL metadata tags to an existing GeoTIFF (in place)."""
    import rasterio
    from rasterio.errors import RasterioIOError

    from hybrid.io.provenance import attribute_value

    try:
        with rasterio.open(file, "r+") as dst:
            dst.update_tags(**{str(k): str(attribute_value(v)) for k, v in attrs.items()})
    except RasterioIOError as exc:
        raise UsageError(f"cannot add tags to {file}: {exc}") from exc


def read_raster(files: list[Path], *, source: Path) -> xr.DataArray:
    """The registry's raster reader: one GeoTIFF, or one per label, as a normalised cube."""
    import numpy as np
    import rasterio
    import xarray as xr
    from rasterio.errors import RasterioIOError

    layers: list[tuple[np.datetime64 | None, np.ndarray]] = []
    grid: tuple[Any, ...] | None = None
    names: list[str] = []
    tags: dict[str, str] = {}
    for file in sorted(files):
        match = GTIFF_NAME.match(file.name)
        if match is None and len(files) > 1:
            raise UsageError(f"{file.name} in {source} is not named openEO_YYYY-MM-DDZ.tif")
        try:
            with rasterio.open(file) as src:
                data = src.read(masked=True).astype("float64").filled(np.nan)
                this_grid = (src.crs, src.transform, src.width, src.height, src.count)
                names = [d or f"band_{i + 1}" for i, d in enumerate(src.descriptions)]
                tags = dict(src.tags())
        except RasterioIOError as exc:
            raise UsageError(f"cannot read {file} as GeoTIFF: {exc}") from None
        if grid is not None and this_grid != grid:
            raise UsageError(
                f"the GeoTIFFs in {source} do not share one grid ({file.name} differs): "
                "compare them one file at a time"
            )
        grid = this_grid
        layers.append((np.datetime64(match.group(1)) if match else None, data))
    assert grid is not None
    crs, transform, width, height, _count = grid
    if transform.b != 0 or transform.d != 0:
        raise UsageError(f"{source} has a rotated grid, which results never have")
    x = transform.c + (np.arange(width) + 0.5) * transform.a
    y = transform.f + (np.arange(height) + 0.5) * transform.e
    stacked = np.stack([layer for _, layer in layers])
    coords: dict[str, Any] = {"y": y, "x": x}
    cube = xr.DataArray(stacked, dims=("t", "bands", "y", "x"), coords=coords)
    if layers[0][0] is not None:
        cube = cube.assign_coords(t=[label for label, _ in layers])
    else:
        cube = cube.isel(t=0, drop=True)
    if len(names) == 1:
        cube = cube.isel(bands=0, drop=True)
        cube.name = names[0] if not names[0].startswith("band_") else "var"
    else:
        cube = cube.assign_coords(bands=names)
    cube.attrs = {k: v for k, v in tags.items() if k != "AREA_OR_POINT"}
    return normalise(cube, crs_wkt=crs.to_wkt() if crs else None, source=source)


FORMAT = Format(
    name="GTiff",
    title="GeoTiff",
    suffixes=(".tif", ".tiff"),
    media_type="image/tiff; application=geotiff",
    per_label=True,
    writers={"raster": write_raster},
    aliases=("geotiff",),
    readers={"raster": read_raster},
    annotate=annotate,
)
