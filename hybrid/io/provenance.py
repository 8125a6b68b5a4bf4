"""Provenance attributes: one namespaced prefix, ``hybrid_``, in every result file.

Copernicus's NetCDF carries only ``Conventions``, ``institution``, ``description`` and
``title`` as globals (NetCDFRDDWriter.scala setupNetCDF; openeo-geopyspark-driver
deploy/batch_job.py ``global_metadata_attributes``); hybrid adds its provenance (the STAC
source, the scenes used, the remote job, timings, excluded dates ...) as a few
``hybrid_*`` globals next to them, so no Copernicus attribute name is ever taken.
Files written before this rule may carry ``provenance_*`` instead (:data:`LEGACY_PREFIXES`;
a comparison leaves both out: :mod:`hybrid.io.layout`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PREFIX = "hybrid_"
#: the prefix remote results used before there was one prefix
LEGACY_PREFIXES = ("provenance_",)


def provenance_attributes(provenance: Mapping[str, Any]) -> dict[str, str | int | float]:
    """``{"job_id": "j-1"}`` -> ``{"hybrid_job_id": "j-1"}``; None values are left out,
    lists of strings are joined with ``"; "``, other containers become JSON."""
    attrs: dict[str, str | int | float] = {}
    for key, value in provenance.items():
        if value is None:
            continue
        name = key if key.startswith(PREFIX) else f"{PREFIX}{key}"
        attrs[name] = attribute_value(value)
    return attrs


def attribute_value(value: Any) -> str | int | float:
    """A value a NetCDF/GeoTIFF attribute can hold."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    return json.dumps(value, sort_keys=True, default=str)


def institution() -> str:
    """What hybrid writes where Copernicus writes ``"{processing_facility} - {version}"``."""
    from importlib import metadata

    try:
        version = metadata.version("hybrid")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"hybrid openEO engine - {version}"
