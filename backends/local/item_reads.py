"""One item's bands on the load grid, and the asset each item holds for each band.

An item without an asset for a band that other items of the load have is read as no
data in that band, with a warning, as Copernicus reads it: its load_stac path looks each
requested band up among the product's assets by name and, when none has it, inserts a
NODATA band for that product ("asset with band name ... not found in feature ...;
inserting NODATA band instead", openeo-geotrellis-extensions FileLayerProvider.scala
L1494-1511 ``getBandAssetsByBandInfo``, used for load_stac: L1522 ``byLinkTitle =
!fromLoadStac``, L1526-1563). A product without SCL so keeps its reflectances, unmasked
by an SCL cloud mask (a comparison on no data is false), instead of failing the run. A
band no item of the load has stays one clear error (BandNotFound naming what the items
have), as a band missing from the whole catalog is a wrong name far more often than
data Copernicus would give as all no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hybrid.errors import DataSourceError
from hybrid.grid import Grid
from hybrid.run_warnings import warn
from hybrid.stac.access import check_assets
from hybrid.stac.providers import Layout, detect_layout

if TYPE_CHECKING:
    import xarray as xr


def band_keys(
    items: Sequence[Any], layouts: Sequence[Layout], bands: tuple[str, ...]
) -> list[tuple[str | None, ...]]:
    """Per item, the asset key of each band; None where the item lacks a band another
    item has (a warning names them). A band no item has: BandNotFound."""
    keys = [tuple(lay.find_key(i, b) for b in bands) for lay, i in zip(layouts, items, strict=True)]
    for n, band in enumerate(bands):
        lacking = [item.id for item, found in zip(items, keys, strict=True) if found[n] is None]
        if len(lacking) == len(items):
            layouts[0].asset_key(items[0], band)  # raises, listing the bands it has
        if lacking:
            warn(
                f"{len(lacking)} product(s) have no asset for band {band} "
                f"({', '.join(lacking[:3])}{', ...' if len(lacking) > 3 else ''}): read as "
                "no data in that band, as Copernicus inserts a NODATA band for them"
            )
    return keys


def band_nodata(
    layout: Layout, item: Any, bands: tuple[str, ...], keys: tuple[str | None, ...]
) -> tuple[float, ...]:
    """The nodata value of each band's asset (0 for a band the item lacks)."""
    return tuple(layout.nodata(item, b) if k else 0.0 for b, k in zip(bands, keys, strict=True))


def load_item(
    item: Any, bands: tuple[str, ...], grid: Grid, chunks: dict[str, Any]
) -> xr.DataArray:
    """(bands, y, x) float32 of one item on ``grid``: DN plus the item's offset, NaN for
    nodata and for the bands it has no asset for."""
    import numpy as np
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_zeros

    layout = detect_layout(item)
    found = {b: layout.find_key(item, b) for b in bands}
    keys = [k for k in found.values() if k is not None]
    check_assets(item, keys)
    geobox = GeoBox.from_bbox(
        (grid.xmin, grid.ymin, grid.xmax, grid.ymax), crs=grid.crs, resolution=grid.resolution
    )
    nodata = {k: layout.nodata(item, b) for b, k in found.items() if k is not None}
    ds = _odc_load_one(item, keys, nodata, geobox, chunks) if keys else None
    layers = []
    for band, key in found.items():
        if key is None or ds is None:
            nothing = xr_zeros(geobox, dtype="float32", chunks=(chunks["y"], chunks["x"]))
            layers.append(nothing.where(False))
            continue
        raw = ds[key].isel(time=0, drop=True)
        offset = layout.dn_offset(item, band)
        value = raw.astype(np.float32)
        if offset:
            value = value + np.float32(offset)
        layers.append(value.where(raw != nodata[key]))
    out = xr.concat(layers, dim="bands", join="exact")
    return out.drop_vars([c for c in out.coords if c not in ("x", "y")])


def _odc_load_one(
    item: Any, keys: list[str], nodata: dict[str, float], geobox: Any, chunks: dict[str, Any]
) -> Any:
    import odc.stac

    cfg = {"*": {"assets": {k: {"nodata": nodata[k]} for k in keys}}}
    try:
        return odc.stac.load(
            [item],
            bands=keys,
            geobox=geobox,
            resampling="nearest",
            chunks=chunks,
            groupby="id",
            stac_cfg=cfg,
            fail_on_error=True,
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        raise DataSourceError(f"cannot load item {item.id}: {exc}") from exc
