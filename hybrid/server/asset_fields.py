"""The STAC fields of one result file and the lon/lat bounds of a job's assets, shared by
the results Collection (:mod:`hybrid.server.result_collection`) and each file's Item
(:mod:`hybrid.server.result_items`).

An asset carries first what the run recorded of its file (``Job.assets``: an
aggregate_spatial result's bands and statistics, :mod:`hybrid.io.vector_assets`), then
what the file says, which takes precedence, as Copernicus's statistics by GDAL replace
those of its run (openeo-geopyspark-driver deploy/batch_job_metadata.py L316-327).

Each data asset carries what its file's header says (:mod:`hybrid.io.raster_facts`): band
names as ``bands`` and ``eo:bands``, ``proj:epsg``, ``proj:shape``, ``proj:bbox``, as
Copernicus's ``_asset_object`` (openeo-python-driver views.py about line 1809) does, and
the statistics GDAL computes of its bands as ``raster:bands``
(:mod:`hybrid.io.raster_statistics`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hybrid.io.raster_facts import raster_facts
from hybrid.io.raster_statistics import band_statistics
from hybrid.server.jobs import Job


def asset_fields(job: Job, result_dir: Path, name: str) -> dict[str, Any]:
    """The STAC fields of the job's result file ``name`` beyond its link and type; the
    band names the run recorded win over the file's (a GTiff's names beyond its bands,
    which its header cannot hold: :func:`hybrid.io.gtiff.asset_band_names`)."""
    recorded = job.assets.get(name, {})
    fields = {**recorded, **_file_fields(result_dir / name)}
    fields.update({key: recorded[key] for key in ("bands", "eo:bands") if key in recorded})
    return fields


def _file_fields(path: Path) -> dict[str, Any]:
    facts = raster_facts(path)
    if facts is None:
        return {}
    fields: dict[str, Any] = {}
    if facts.bands:
        named = [{"name": band} for band in facts.bands]
        fields["bands"] = named
        fields["eo:bands"] = [dict(band) for band in named]
    if facts.bbox is not None:
        fields["proj:bbox"] = list(facts.bbox)
    if facts.epsg is not None:
        fields["proj:epsg"] = facts.epsg
    if facts.shape is not None:
        fields["proj:shape"] = list(facts.shape)
    statistics = band_statistics(path)
    if statistics:
        fields["raster:bands"] = statistics
    return fields


def lonlat_bbox(assets: dict[str, dict[str, Any]]) -> list[float] | None:
    """The lon/lat bounds of the first asset that has ``proj:bbox`` and ``proj:epsg``:
    the extent when the graph's loads do not say (e.g. ``spatial_extent`` null and a
    ``filter_spatial``)."""
    for asset in assets.values():
        if "proj:bbox" in asset and "proj:epsg" in asset:
            from pyproj import Transformer

            to_lonlat = Transformer.from_crs(asset["proj:epsg"], 4326, always_xy=True)
            return [float(v) for v in to_lonlat.transform_bounds(*asset["proj:bbox"])]
    return None
