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
  band dimension (geopysparkdatacube.py ``if self.metadata.has_band_dimension()``), and
  only for the bands its metadata names (L2305-2312): none for a band beyond a shorter
  ``rename_labels`` target (:data:`hybrid.io.cube.UNNAMED_BANDS`);
- save_result options: ``filename_prefix``; ``overviews`` (``AUTO``, the default,
  ``ALL``: :func:`hybrid.io.gtiff_options.all_overview_factors`; any other value, e.g.
  ``OFF``, writes none: package.scala ``saveRDDGeneric``); ``compression``, ``ZLEVEL``,
  ``predictor``, ``tile_size``, ``bands_metadata`` (:mod:`hybrid.io.gtiff_options`,
  which refuses the options Copernicus honours and this writer does not);
  ``separate_asset_per_band`` (one file per band and label,
  ``openEO_2023-05-01Z_B04.tif``, ``openEO_B04.tif`` without time, each with its band's
  ``DESCRIPTION``: package.scala ``saveRDDTemporalAllowAssetPerBand`` ``bandPiece``,
  ``saveRDDAllowAssetPerBand``; geopysparkdatacube.py:2127 reads it with ``smart_bool``;
  a band the metadata names not fails there, ``bandLabels(bandIndex)`` L162, L219-231,
  here a 400).

Values are written as float32 with NaN nodata (the cube's dtype on Copernicus), or in
the integer cell type a cube's attribute :data:`hybrid.io.cube.CELL_TYPE` names, with
its nodata value for NaN (int16 for the loaded bands, uint8/uint16 after
``linear_scale_range`` to an integer range: :mod:`hybrid.backends.local.cell_types`). A lazy
cube is written block by block in whole tiles (:func:`_write_layer`), which GDAL
compresses on threads of its own (``NUM_THREADS``): the same values and layout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.errors import UsageError
from hybrid.io.cube import (
    CELL_TYPE,
    cube_crs,
    names_beyond_bands,
    require_date_labels,
    stored_values,
    unnamed_bands,
)
from hybrid.io.format import METADATA_PARAMETER, PREFIX_PARAMETER, SAMPLE_PARAMETERS, Format
from hybrid.io.gtiff_options import PARAMETERS, all_overview_factors, describe_bands, parse
from hybrid.io.gtiff_read import read_raster
from hybrid.io.streaming import is_lazy, store_blocks

if TYPE_CHECKING:
    import xarray as xr

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
    from hybrid.grid import centres_transform

    if cube.sizes["y"] > 1 and float(cube["y"][0]) < float(cube["y"][-1]):
        cube = cube.isel(y=slice(None, None, -1))
    return cube, centres_transform(cube["x"].values, cube["y"].values)


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
    cube, transform = _north_up(cube)
    bands = _described(cube)
    per_band = _per_band(bands, options)
    files = _files(cube, transform, bands, per_band, attrs or {}, options)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers = cube if "t" in cube.dims else cube.expand_dims(t=[None])
    prefix = filename_prefix(options)
    written = []
    for label in layers["t"].values:
        layer = layers.sel(t=label) if label is not None else layers.isel(t=0)
        path = folder / label_file_name(label, prefix)
        written += _write_label(path, layer.transpose(..., "y", "x"), bands, per_band, files)
    return written


@dataclass(frozen=True)
class _Files:
    """What every file of one cube shares: rasterio's ``profile``, the head ``tags``,
    the overview ``factors``, the ``band_tags`` per band and the ``palette``."""

    profile: Mapping[str, Any]
    tags: Mapping[str, str]
    factors: list[int]
    band_tags: Mapping[str, Mapping[str, str]]
    palette: Mapping[int, tuple[int, int, int, int]]


def _files(
    cube: xr.DataArray,
    transform: Any,
    bands: list[str | None] | None,
    per_band: bool,
    attrs: Mapping[str, Any],
    options: Mapping[str, Any],
) -> _Files:
    """The layout of the cube's files, the save_result ``options`` checked against it."""
    settings = parse(options)
    crs = cube_crs(cube)
    width, height = cube["x"].size, cube["y"].size
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
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
    return _Files(
        profile=profile,
        tags=_head_tags(attrs, options.get("file_metadata") or {}),
        factors=_overview_factors(settings.overviews, width, height),
        band_tags={band: settings.band_tags(band) for band in bands or () if band is not None},
        palette=settings.colormap(profile["dtype"]),
    )


def _write_label(
    path: Path, layer: Any, bands: list[str | None] | None, per_band: bool, files: _Files
) -> list[Path]:
    """The file of one label's ``layer`` (bands, y, x) at ``path``; with ``per_band``, one
    file a band instead, its name ending in the band's."""
    if not per_band:
        _write_file(path, layer.data, files.profile, bands, files)
        return [path]
    written = []
    for index, band in enumerate(bands or ()):
        band_path = path.with_name(f"{path.stem}_{band}{path.suffix}")
        one = {**files.profile, "count": 1}
        _write_file(band_path, layer.isel(bands=index).data, one, [band], files)
        written.append(band_path)
    return written


def _described(cube: xr.DataArray) -> list[str | None] | None:
    """The ``DESCRIPTION`` of each band, None for one Copernicus's band metadata does not
    name (:data:`hybrid.io.cube.UNNAMED_BANDS`; geopysparkdatacube.py L2305-2312 tags
    the metadata's names only); None without a band dimension."""
    if "bands" not in cube.dims:
        return None
    unnamed = unnamed_bands(cube)
    return [None if str(b) in unnamed else str(b) for b in cube["bands"].values]


def asset_band_names(cube: xr.DataArray, options: Mapping[str, Any]) -> list[str] | None:
    """The ``bands`` Copernicus lists on the asset of ``cube``'s file when its header cannot
    say them: without time and a file per band, every name of its band metadata, those
    beyond the bands too (``band_count`` of the metadata's names, geopysparkdatacube.py
    L2305-2307, L2497-2504, L2529-2532; geotiff/package.scala L253-254); None otherwise
    (with time the file's bands, ``bandIndices`` of the tiles: package.scala L173)."""
    beyond = names_beyond_bands(cube)
    if "t" in cube.dims or not beyond or _per_band(_described(cube), options):
        return None
    return [band for band in _described(cube) or () if band is not None] + beyond


def _per_band(bands: list[str | None] | None, options: Mapping[str, Any]) -> bool:
    """Whether a file per band is asked for (its band names then file-name safe; a band
    without a name fails as on Copernicus, whose file name is ``bandLabels(bandIndex)``:
    geotrellis-extensions geotiff/package.scala L162, L219, L231)."""
    from hybrid.errors import ProcessParameterInvalid
    from hybrid.io.format import option_flag, plain_file_name

    per_band = bands is not None and option_flag(options.get("separate_asset_per_band"))
    if per_band and None in (bands or ()):
        raise ProcessParameterInvalid(
            f"save_result: separate_asset_per_band names each file by its band, and "
            f"{(bands or []).count(None)} of the {len(bands or [])} bands have no name in "
            "the cube's band metadata (rename_labels without `source` and fewer `target` "
            "labels than bands); Copernicus fails on them too: give as many labels as bands"
        )
    if per_band:
        for band in bands or ():
            plain_file_name(str(band), what="separate_asset_per_band: the band name")
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
    bands: list[str | None] | None,
    files: _Files,
) -> None:
    """One GeoTIFF of ``values`` (bands, y, x) or (y, x) with ``profile``, the band
    descriptions ``bands`` and what every file shares (:class:`_Files`)."""
    import rasterio

    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        if files.palette:
            dst.write_colormap(1, files.palette)
        _write_layer(dst, values, int(profile["blockxsize"]))
        dst.update_tags(**files.tags)
        describe_bands(dst, bands or [], files.band_tags)
        if files.factors:
            from rasterio.enums import Resampling

            dst.build_overviews(files.factors, Resampling.nearest)


def _cell_type(cube: Any) -> dict[str, Any]:
    """The file's dtype and nodata: float32 with NaN, or the cube's :data:`CELL_TYPE`
    (bits: ``BandType.forCellType(BitCellType)``, geotrellis-extensions
    ``geotiff/package.scala`` ``toTiff`` L590-620)."""
    dtype, nodata = cube.attrs.get(CELL_TYPE) or ("float32", float("nan"))
    if dtype == "bool":  # geotrellis bits: a 1-bit GeoTIFF without nodata, as there
        return {"dtype": "uint8", "nodata": None, "nbits": 1}
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


FORMAT = Format(
    name="GTiff",
    title="GeoTiff",
    suffixes=(".tif", ".tiff"),
    media_type="image/tiff; application=geotiff",
    per_label=True,
    writers={"raster": write_raster},
    aliases=("geotiff",),
    readers={"raster": read_raster},  # hybrid.io.gtiff_read
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
