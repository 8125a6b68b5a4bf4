"""Each scene the load selects, with its cloud cover over the AOI (not the whole tile).

``eo:cloud_cover`` is the cloud cover of a 110 km tile; a field can be clear under a
cloudy tile or covered under a clear one. :func:`scene_table` loads the SCL band of
every scene the workflow's load_collection would select - same search, same
selection, same daily mosaic, on the same Copernicus grid - and counts, over the AOI:

- the **AOI cloud fraction**: % of the valid SCL pixels whose class is in ``classes``,
  the workflow's ``cloud_classes`` (``--cloud-classes``, default 8/9 cloud medium/high
  probability): the pixels the mask starts from, before its Gaussian dilation, so the
  table, ``--max-aoi-cloud`` and the mask mean the same by cloud;
- the **valid-data fraction**: % of the AOI pixels with an SCL class (not nodata 0).

"Over the AOI" means the pixels of the output grid whose centre lies inside the AOI
polygon (the rasterisation rule of GDAL and of openEO's mask_polygon). Copernicus
loads the polygon's bounding box, but the polygon is what the user asked about; for a
rectangular AOI both are the same. A scene without any valid pixel over the AOI has a
NaN cloud fraction and is never excluded by ``--max-aoi-cloud`` (it contributes no
pixel to the result anyway).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybrid.errors import HybridError, UsageError
from hybrid.params import DEFAULT_CLOUD_CLASSES, Workflow

#: SCL classes counted as cloud over the AOI: those the mask uses by default
DEFAULT_CLASSES: tuple[int, ...] = DEFAULT_CLOUD_CLASSES


@dataclass(frozen=True)
class SceneRow:
    """One acquisition date as the load sees it (its items mosaicked)."""

    #: UTC acquisition date, ``YYYY-MM-DD``
    date: str
    #: MGRS tiles of the date's items, in mosaic order
    tiles: tuple[str, ...]
    item_ids: tuple[str, ...]
    #: eo:cloud_cover of each item (None where the item has none), in mosaic order
    tile_cloud_cover: tuple[float | None, ...]
    #: % of the valid AOI pixels whose SCL class is a cloud class (NaN: none valid)
    aoi_cloud_pct: float
    #: % of the AOI pixels with valid SCL data
    valid_pct: float
    #: pixels of the output grid inside the AOI
    aoi_pixels: int
    #: older processings of the date's acquisitions, not used (Copernicus takes the
    #: most recently updated one)
    replaced_ids: tuple[str, ...] = ()
    #: why the date may differ from Copernicus (e.g. a source without reprocessings)
    note: str = ""

    @property
    def tile_cloud_pct(self) -> float | None:
        """The tile cloud cover of the date: the highest of its items'."""
        known = [c for c in self.tile_cloud_cover if c is not None]
        return max(known) if known else None

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "tiles": list(self.tiles),
            "item_ids": list(self.item_ids),
            "tile_cloud_cover": list(self.tile_cloud_cover),
            "aoi_cloud_pct": _finite(self.aoi_cloud_pct),
            "valid_pct": _finite(self.valid_pct),
            "aoi_pixels": self.aoi_pixels,
            "replaced_item_ids": list(self.replaced_ids),
            "note": self.note,
        }


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def check_classes(classes: Sequence[int]) -> tuple[int, ...]:
    """The classes sorted, each once; SCL classes are 0..11 (as ``--cloud-classes``)."""
    out = tuple(sorted({int(c) for c in classes}))
    if not out or any(not 0 <= c <= 11 for c in out):
        raise UsageError(
            f"SCL cloud classes {list(classes)} must be in 0..11, e.g. 8,9 "
            "(8/9 cloud; 3 shadow, 10 cirrus)"
        )
    return out


@dataclass(frozen=True)
class LoadedScenes:
    """The scenes of a workflow's load, cropped to its output grid."""

    #: the loader's cube, dims (t, bands, y, x), cropped to the output grid
    cube: Any
    #: per date, the DailyScenes of the selection (same order as ``cube.t``)
    days: tuple[Any, ...]
    #: bool (y, x): output pixels whose centre is inside the AOI polygon
    inside: Any


def load_scenes(
    workflow: Workflow, *, stac: str | Path | None = None, bands: Sequence[str] = ("SCL",)
) -> LoadedScenes:
    """Load ``bands`` for every scene the workflow's load_collection selects.

    The catalog search uses the same envelope as the real load (grown by the pixel
    buffer of the workflow's kernel), so exactly the same items are selected.
    """
    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local.loader import LoadRequest, load_s2
    from hybrid.grid import kernel_buffer

    request = LoadRequest(
        bbox=geometry_bbox(workflow.aoi),
        start=workflow.start,
        end=workflow.end,
        bands=tuple(bands),
        max_cloud_cover=workflow.max_cloud_cover,
        buffer=kernel_buffer((workflow.kernel_size, workflow.kernel_size)),
    )
    loaded = load_s2(None if stac is None else str(stac), request)
    grid = loaded.grid
    cube = loaded.cube.sel(x=slice(grid.xmin, grid.xmax), y=slice(grid.ymax, grid.ymin))
    return LoadedScenes(cube=cube, days=loaded.scenes, inside=aoi_mask(workflow.aoi, grid))


def aoi_mask(aoi: dict[str, Any], grid: Any) -> Any:
    """bool (height, width): pixels of ``grid`` whose centre lies inside ``aoi``."""
    import shapely
    from affine import Affine
    from pyproj import Transformer
    from rasterio.features import geometry_mask
    from shapely.geometry import mapping, shape

    project = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform
    geometry = shapely.transform(shape(aoi), project, interleaved=False)
    outside = geometry_mask(
        [mapping(geometry)],
        out_shape=(grid.height, grid.width),
        transform=Affine(grid.resolution, 0.0, grid.xmin, 0.0, -grid.resolution, grid.ymax),
        all_touched=False,
    )
    return ~outside


def scene_table(
    workflow: Workflow,
    *,
    stac: str | Path | None = None,
    classes: Sequence[int] | None = None,
) -> list[SceneRow]:
    """One row per date the workflow's load selects, sorted by date; cloud is ``classes``,
    by default the workflow's ``cloud_classes`` (what its mask uses)."""
    import numpy as np

    cloud_classes = check_classes(workflow.cloud_classes if classes is None else classes)
    scenes = load_scenes(workflow, stac=stac, bands=("SCL",))
    scl = np.asarray(scenes.cube.sel(bands="SCL").values)  # (t, y, x), NaN = nodata
    inside = np.asarray(scenes.inside)
    if scl.shape[1:] != inside.shape:
        raise HybridError(f"internal: SCL grid {scl.shape[1:]} != AOI mask {inside.shape}")
    n_inside = int(inside.sum())
    rows = []
    for k, day in enumerate(scenes.days):
        values = scl[k][inside]
        valid = np.isfinite(values) & (values > 0)
        n_valid = int(valid.sum())
        n_cloud = int(np.isin(values[valid], cloud_classes).sum())
        rows.append(
            SceneRow(
                date=day.date.isoformat(),
                tiles=tuple(_tile(item) for item in day.items),
                item_ids=tuple(item.id for item in day.items),
                tile_cloud_cover=tuple(_cover(item) for item in day.items),
                aoi_cloud_pct=100.0 * n_cloud / n_valid if n_valid else math.nan,
                valid_pct=100.0 * n_valid / n_inside if n_inside else math.nan,
                aoi_pixels=n_inside,
                replaced_ids=tuple(item.id for item in day.replaced),
                note=_provider_note(day.items),
            )
        )
    return sorted(rows, key=lambda r: r.date)


def _provider_note(items: Sequence[Any]) -> str:
    """A warning when the date's items come from a collection without the reprocessed
    products Copernicus uses (the newest processing of every tile and date)."""
    from hybrid.errors import BandNotFound
    from hybrid.stac.providers import PROVIDERS, item_provider

    lacking = set()
    for item in items:
        try:
            provider = item_provider(item)
        except BandNotFound:
            continue
        if provider is not None and not provider.reprocessed:
            lacking.add(provider.name)
    if not lacking:
        return ""
    having = ", ".join(f"{p.name} ({p.collection})" for p in PROVIDERS if p.reprocessed)
    return (
        f"{'/'.join(sorted(lacking))} holds original processings only; Copernicus uses the "
        f"newest reprocessing of this date, which may differ: compare with {having}"
    )


def _tile(item: Any) -> str:
    from hybrid.stac.selection import mgrs_tile

    return mgrs_tile(item)


def _cover(item: Any) -> float | None:
    value = item.properties.get("eo:cloud_cover")
    return None if value is None else float(value)


def dates_above(rows: Sequence[SceneRow], limit: float) -> tuple[str, ...]:
    """Dates whose AOI cloud fraction exceeds ``limit`` percent (NaN never does)."""
    return tuple(sorted({r.date for r in rows if r.aoi_cloud_pct > limit}))


#: tile and AOI cloud cover differ by at least this many points: flagged in the table
FAR_APART = 25.0


def far_apart(row: SceneRow) -> bool:
    """Whether the AOI cloud fraction is far from the tile's cloud cover."""
    tile = row.tile_cloud_pct
    return (
        tile is not None
        and math.isfinite(row.aoi_cloud_pct)
        and abs(row.aoi_cloud_pct - tile) >= FAR_APART
    )


def format_scene_table(
    rows: Sequence[SceneRow],
    *,
    max_aoi_cloud: float | None = None,
    classes: Sequence[int] | None = None,
) -> str:
    """A fixed-width text table, one line per date, with a legend (what ``classes``
    the AOI cloud counts, when given)."""
    lines = _table_lines(rows, max_aoi_cloud)
    if classes is not None:
        lines.append(
            f"AOI cloud %: valid AOI pixels in SCL classes {','.join(map(str, classes))} "
            "(--cloud-classes: the pixels the cloud mask starts from)"
        )
    return "\n".join(lines + _notes(rows, max_aoi_cloud))


def _pct(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1f}"


def _table_lines(rows: Sequence[SceneRow], max_aoi_cloud: float | None) -> list[str]:
    """The header, its rule and a line per date, in columns padded to their widest cell
    (a ``kept`` column with ``max_aoi_cloud``)."""
    header = ["date", "tiles", "tile cloud %", "AOI cloud %", "valid %"]
    if max_aoi_cloud is not None:
        header.append("kept")
    header.append("items")
    table = [header]
    for r in rows:
        tile = "/".join(_pct(c) for c in r.tile_cloud_cover)
        aoi = _pct(r.aoi_cloud_pct) + (" *" if far_apart(r) else "")
        line = [r.date, "+".join(r.tiles), tile, aoi, _pct(r.valid_pct)]
        if max_aoi_cloud is not None:
            line.append("no" if r.aoi_cloud_pct > max_aoi_cloud else "yes")
        line.append(" ".join(r.item_ids))
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in table]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _notes(rows: Sequence[SceneRow], max_aoi_cloud: float | None) -> list[str]:
    """The lines below the table: the dates flagged ``*``, each date's replaced
    processings and note, and the dates ``max_aoi_cloud`` excludes."""
    notes: list[str] = []
    flagged = sum(far_apart(r) for r in rows)
    if flagged:
        notes.append(
            f"* {flagged} date(s) where the AOI cloud fraction is {FAR_APART:.0f}+ points "
            "away from the tile cloud cover (eo:cloud_cover)"
        )
    for r in rows:
        if r.replaced_ids:
            notes.append(
                f"{r.date}: older processing(s) not used (Copernicus takes the most recently "
                f"updated): {' '.join(r.replaced_ids)}"
            )
        if r.note:
            notes.append(f"{r.date}: {r.note}")
    if max_aoi_cloud is not None:
        dropped = dates_above(rows, max_aoi_cloud)
        notes.append(
            f"--max-aoi-cloud {max_aoi_cloud:g}: {len(dropped)} date(s) excluded"
            + (f" ({', '.join(dropped)})" if dropped else "")
        )
    return notes
