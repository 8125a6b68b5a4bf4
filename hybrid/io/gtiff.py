"""GeoTIFF results: one ``openEO_YYYY-MM-DDZ.tif`` per time label, as Copernicus writes them.

Copernicus (openeo-geopyspark-driver geopysparkdatacube.py ``write_assets``, GTiff branch:
batch jobs on a cube with time go to openeo-geotrellis-extensions geotiff/package.scala
``saveRDDTemporalAllowAssetPerBand``):

- one file per label, ``openEO_`` + ``ISO_DATE`` of the label (``2023-05-01Z``), or the
  ISO date-time without ``-``/``:`` when a label is not at 00:00; ``openEO.tif`` for a
  cube without time;
- deflate (``ZLEVEL`` 6, no predictor), 256 x 256 tiles, band interleave;
- overviews with ``overviews="AUTO"`` (``defaultOverviewReductions``): reduction factors
  2**(l+1) for l in 1 .. ceil(log2(max(width, height) / 1024)) - 1 whose tiles stay above
  16 px, so none up to 2048 px, then 4, then 4 and 8 (nearest neighbour);
- head tags ``PROCESSING_SOFTWARE`` and the job's ``file_metadata`` (``title``,
  ``description``, ``institution``); band ``DESCRIPTION`` tags only while the cube has a
  band dimension (geopysparkdatacube.py ``if self.metadata.has_band_dimension()``);
- save_result options: ``filename_prefix``; ``overviews`` (``AUTO``, the default,
  ``ALL``: :func:`hybrid.io.gtiff_options.all_overview_factors`; any other value, e.g.
  ``OFF``, writes none: package.scala ``saveRDDGeneric``); ``compression``, ``ZLEVEL``,
  ``predictor``, ``tile_size``, ``bands_metadata`` (:mod:`hybrid.io.gtiff_options`,
  which refuses the options Copernicus honours and this writer does not);
  ``separate_asset_per_band`` (one file per band and label,
  ``openEO_2023-05-01Z_B04.tif``, ``openEO_B04.tif`` without time, each with its band's
  ``DESCRIPTION``: package.scala ``saveRDDTemporalAllowAssetPerBand`` ``bandPiece``,
  ``saveRDDAllowAssetPerBand``; geopysparkdatacube.py:2127 reads it with ``smart_bool``).

Values are written as float32 with NaN nodata (the cube's dtype on Copernicus), or in
the integer cell type a cube's attribute :data:`hybrid.io.cube.CELL_TYPE` names, with
its nodata value for NaN (int16 for the loaded bands, uint8/uint16 after
``linear_scale_range`` to an integer range: :mod:`hybrid.backends.local.cell_types`). A lazy
cube is written block by block in whole tiles (:func:`_write_layer`), which GDAL
compresses on threads of its own (``NUM_THREADS``): the same values and layout.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.errors import UsageError
from hybrid.io.cube import CELL_TYPE, cube_crs, normalise, require_date_labels, stored_values
from hybrid.io.format import METADATA_PARAMETER, PREFIX_PARAMETER, SAMPLE_PARAMETERS, Format
from hybrid.io.gtiff_options import PARAMETERS, all_overview_factors, parse
from hybrid.io.streaming import is_lazy, store_blocks

if TYPE_CHECKING:
    import xarray as xr

#: ``openEO_2023-05-01Z.tif`` (Copernicus), also without ``Z``, with a time, or the
#: compact ``openEO_20230501T103000Z.tif`` Copernicus writes for labels not at 00:00
GTIFF_NAME = re.compile(r"^openEO_(\d{4}-?\d{2}-?\d{2})(?:T[0-9:.]+)?Z?\.tiff?$", re.IGNORECASE)
TILE_SIZE = 256


def overview_factors(width: int, height: int, tile: int = TILE_SIZE) -> list[int]:
    """Copernicus's ``defaultOverviewReductions`` for ``overviews="AUTO"``."""
    blocks = max(width, height) / 1024
    levels = math.ceil(math.log2(blocks)) if blocks > 0 else 0
    factors = [2 ** (level + 1) for level in range(1, levels)]
    return [f for f in factors if tile // f > 16]


def label_file_name(label: Any, prefix: str = "openEO") -> str:
    """``openEO_2023-05-01Z.tif`` for a label at 00:00, ``openEO_20230501T103000Z.tif``
    otherwise, ``openEO.tif`` for None (no time dimension); ``prefix`` replaces ``openEO``."""
    import numpy as np

    if label is None:
        return f"{prefix}.tif"
    seconds = np.datetime64(label, "s")
    text = str(seconds)
    if text.endswith("T00:00:00"):
        return f"{prefix}_{text[:10]}Z.tif"
    return f"{prefix}_{text.replace('-', '').replace(':', '')}Z.tif"


def _north_up(cube: xr.DataArray) -> tuple[xr.DataArray, Any]:
    """The cube with y descending, and the affine transform of its pixel corners."""
    from affine import Affine

    if cube.sizes["y"] > 1 and float(cube["y"][0]) < float(cube["y"][-1]):
        cube = cube.isel(y=slice(None, None, -1))
    x, y = cube["x"].values, cube["y"].values
    dx = float(x[1] - x[0]) if x.size > 1 else 10.0
    dy = float(y[1] - y[0]) if y.size > 1 else -10.0
    return cube, Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)


def write_gtiff(
    cube: xr.DataArray,
    folder: str | Path,
    *,
    attrs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a raster cube in Copernicus's GTiff layout (see the module docstring);
    ``attrs`` (provenance) and ``options["file_metadata"]`` become head tags, and
    ``options["filename_prefix"]`` replaces ``openEO`` in the file names."""
    from hybrid.io.format import filename_prefix

    require_date_labels(cube, fmt="GTiff")
    options = options or {}
    settings = parse(options)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cube, transform = _north_up(cube)
    x, y = cube["x"].values, cube["y"].values
    bands = [str(b) for b in cube["bands"].values] if "bands" in cube.dims else None
    crs = cube_crs(cube)
    layers = cube if "t" in cube.dims else cube.expand_dims(t=[None])
    tags = _head_tags(attrs or {}, options.get("file_metadata") or {})
    prefix = filename_prefix(options)
    per_band = _per_band(bands, options)
    profile = {
        "driver": "GTiff",
        "width": x.size,
        "height": y.size,
        "count": len(bands) if bands else 1,
        **_cell_type(cube),
        "transform": transform,
        "crs": crs.to_wkt() if crs else None,
        "tiled": True,
        **settings.profile(),
        "interleave": "band",
        "num_threads": "ALL_CPUS",
    }
    settings.require_predictor_fits(profile["dtype"])
    settings.require_palette_fits(profile["dtype"], 1 if per_band else profile["count"])
    factors = _overview_factors(settings.overviews, x.size, y.size)
    band_tags = {band: settings.band_tags(band) for band in bands or ()}
    palette = settings.colormap(profile["dtype"])
    written = []
    for label in layers["t"].values:
        layer = layers.sel(t=label) if label is not None else layers.isel(t=0)
        layer = layer.transpose(..., "y", "x")
        path = folder / label_file_name(label, prefix)
        if not per_band:
            _write_file(path, layer.data, profile, tags, bands, factors, band_tags, palette)
            written.append(path)
            continue
        for index, band in enumerate(bands or ()):
            band_path = path.with_name(f"{path.stem}_{band}{path.suffix}")
            one = profile | {"count": 1}
            values = layer.isel(bands=index).data
            _write_file(band_path, values, one, tags, [band], factors, band_tags, palette)
            written.append(band_path)
    return written


def _per_band(bands: list[str] | None, options: Mapping[str, Any]) -> bool:
    """Whether a file per band is asked for (its band names then file-name safe)."""
    from hybrid.io.format import option_flag, plain_file_name

    per_band = bands is not None and option_flag(options.get("separate_asset_per_band"))
    if per_band:
        for band in bands or ():
            plain_file_name(band, what="separate_asset_per_band: the band name")
    return per_band


def _overview_factors(overviews: str, width: int, height: int) -> list[int]:
    """The overview levels of the ``overviews`` option: AUTO, ALL or OFF (none)."""
    if overviews == "AUTO":
        return overview_factors(width, height)
    if overviews == "ALL":
        return all_overview_factors(width, height)
    return []


def _write_file(
    path: Path,
    values: Any,
    profile: Mapping[str, Any],
    tags: Mapping[str, str],
    bands: list[str] | None,
    factors: list[int],
    band_tags: Mapping[str, Mapping[str, str]],
    palette: Mapping[int, tuple[int, int, int, int]],
) -> None:
    """One GeoTIFF of ``values`` (bands, y, x) or (y, x) with head ``tags``, the band
    descriptions ``bands`` and their ``band_tags``, and a ``palette`` if not empty."""
    import rasterio

    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        if palette:
            dst.write_colormap(1, palette)
        _write_layer(dst, values, int(profile["blockxsize"]))
        dst.update_tags(**tags)
        for index, band in enumerate(bands or (), start=1):
            dst.set_band_description(index, band)
            if band_tags.get(band):
                dst.update_tags(index, **band_tags[band])
        if factors:
            from rasterio.enums import Resampling

            dst.build_overviews(factors, Resampling.nearest)


def _cell_type(cube: Any) -> dict[str, Any]:
    """The file's dtype and nodata: float32 with NaN, or the cube's :data:`CELL_TYPE`."""
    dtype, nodata = cube.attrs.get(CELL_TYPE) or ("float32", float("nan"))
    return {"dtype": dtype, "nodata": nodata}


def _write_layer(dst: Any, values: Any, tile: int = TILE_SIZE) -> None:
    """One file's (bands, y, x) or (y, x) values into the open GeoTIFF ``dst``: a
    Dask-backed layer block by block as the blocks are computed
    (:func:`hybrid.io.streaming.store_blocks`, memory bounded by the chunk size), else
    at once. GDAL is handed whole tiles only (:mod:`hybrid.io.chunk_parts`): the tiles a
    block shares with its neighbours are put together first, so that GDAL compresses
    and writes every tile once."""
    import numpy as np

    from hybrid.io.chunk_parts import ChunkLattice, PartAssembler

    dtype, nodata = dst.dtypes[0], dst.nodata
    if not is_lazy(values):
        dst.write(stored_values(values, dtype, nodata).reshape(-1, *values.shape[-2:]))
        return
    if np.dtype(dtype).kind == "f" and (nodata is None or np.isnan(nodata)):
        lazy = values.astype(dtype)
    else:
        lazy = values.map_blocks(stored_values, dtype, nodata, dtype=dtype)
    if lazy.ndim == 2:
        lazy = lazy[None]
    tiles = ChunkLattice(tuple(lazy.shape), (lazy.shape[0], tile, tile))
    parts = PartAssembler()

    def write(index: tuple[slice, ...], block: Any) -> None:
        for offset, cut, piece, whole in tiles.pieces(index, np.asarray(block)):
            if whole:
                _write_tile(dst, tiles.extent(offset), piece)
            else:
                for done, tile in parts.add(None, tiles, cut, piece):
                    _write_tile(dst, tiles.extent(done), tile)

    store_blocks(lazy, write)
    if parts.incomplete():
        raise RuntimeError("tiles of the result were not complete: a block was not written")


def _write_tile(dst: Any, extent: tuple[slice, ...], values: Any) -> None:
    """``values`` (bands, rows, cols) at the array index ``extent`` of ``dst``."""
    from rasterio.windows import Window

    bands, rows, cols = extent
    window = Window.from_slices(rows, cols)
    dst.write(values, indexes=list(range(bands.start + 1, bands.stop + 1)), window=window)


def _head_tags(attrs: Mapping[str, Any], file_metadata: Mapping[str, Any]) -> dict[str, str]:
    from hybrid.io.provenance import attribute_value, institution

    meta: dict[str, Any] = {"title": "", "description": "", "institution": institution()}
    meta.update({str(k): v for k, v in file_metadata.items() if v is not None})
    tags = {"PROCESSING_SOFTWARE": institution()}
    if meta["description"]:
        tags["ImageDescription"] = str(meta["description"])
    # GDAL does not store empty metadata items (Copernicus's empty title/description)
    tags.update({k: str(attribute_value(v)) for k, v in meta.items() if v != ""})
    tags.update({str(k): str(attribute_value(v)) for k, v in attrs.items()})
    return tags


def write_raster(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's raster writer."""
    return write_gtiff(cube, out_dir, attrs=attrs, options=options)


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

    labels: list[np.datetime64 | None] = []
    grid: tuple[Any, ...] | None = None
    stacked: np.ndarray | None = None  # every file read into its place: no stacking copy
    names: list[str] = []
    tags: dict[str, str] = {}
    ordered = sorted(files)
    for index, file in enumerate(ordered):
        match = GTIFF_NAME.match(file.name)
        if match is None and len(files) > 1:
            raise UsageError(f"{file.name} in {source} is not named openEO_YYYY-MM-DDZ.tif")
        try:
            with rasterio.open(file, NUM_THREADS="ALL_CPUS") as src:  # decoded on all cores
                this_grid = (src.crs, src.transform, src.width, src.height, src.count)
                if grid is not None and this_grid != grid:
                    raise UsageError(
                        f"the GeoTIFFs in {source} do not share one grid ({file.name} "
                        "differs): compare them one file at a time"
                    )
                if stacked is None:
                    shape = (len(ordered), src.count, src.height, src.width)
                    stacked = np.empty(shape, dtype="float64")
                _read_values(src, stacked[index])
                names = [d or f"band_{i + 1}" for i, d in enumerate(src.descriptions)]
                tags = dict(src.tags())
        except RasterioIOError as exc:
            raise UsageError(f"cannot read {file} as GeoTIFF: {exc}") from None
        grid = this_grid
        labels.append(_label(match.group(1)) if match else None)
    assert grid is not None and stacked is not None
    crs, transform, width, height, _count = grid
    if transform.b != 0 or transform.d != 0:
        raise UsageError(f"{source} has a rotated grid, which results never have")
    x = transform.c + (np.arange(width) + 0.5) * transform.a
    y = transform.f + (np.arange(height) + 0.5) * transform.e
    coords: dict[str, Any] = {"y": y, "x": x}
    cube = xr.DataArray(stacked, dims=("t", "bands", "y", "x"), coords=coords)
    timed = labels[0] is not None
    cube = cube.assign_coords(t=labels) if timed else cube.isel(t=0, drop=True)
    if len(names) == 1:
        cube = cube.isel(bands=0, drop=True)
        cube.name = names[0] if not names[0].startswith("band_") else "var"
    else:
        cube = cube.assign_coords(bands=names)
    cube.attrs = {k: v for k, v in tags.items() if k != "AREA_OR_POINT"}
    return normalise(cube, crs_wkt=crs.to_wkt() if crs else None, source=source)


def _read_values(src: Any, out: Any) -> None:
    """An open GeoTIFF's values into the float64 array ``out`` (bands, rows, cols), NaN
    where GDAL's mask says nodata. A file whose nodata is NaN, or which has none (as
    results are written), holds its nodata as NaN already: read straight into ``out``,
    without the masked array's copies."""
    import math

    import numpy as np
    from rasterio.enums import MaskFlags

    flags = {flag for band in src.mask_flag_enums for flag in band}
    nodata = src.nodata
    if flags <= {MaskFlags.all_valid, MaskFlags.nodata} and (nodata is None or math.isnan(nodata)):
        src.read(out=out)
        return
    out[...] = src.read(masked=True).astype("float64").filled(np.nan)


def _label(text: str) -> Any:
    import numpy as np

    digits = text.replace("-", "")
    return np.datetime64(f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}")


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
    parameters={
        "filename_prefix": PREFIX_PARAMETER,
        "separate_asset_per_band": {
            "type": "boolean",
            "description": "One file per band (and per date): openEO_2023-05-01Z_B04.tif.",
            "default": False,
        },
        "overviews": {
            "type": "string",
            "description": "AUTO: overviews for images above 2048 px; ALL: whenever the "
            "256 px tiles can be merged twice or more; OFF: none.",
            "default": "AUTO",
            "enum": ["AUTO", "ALL", "OFF"],
        },
        **PARAMETERS,
        "file_metadata": METADATA_PARAMETER,
        **SAMPLE_PARAMETERS,
    },
)
