"""The UDF runtimes the local engine offers (``GET /udf_runtimes``) and their check.

Copernicus lists "Python" (and "Python-Jep") with the interpreter's version as "3",
"3.X" and "3.X.Y" and the versions of a fixed list of libraries
(openeo-python-driver ``openeo_driver/backend.py`` ``LegacyUdfRuntimes``, lines 827-900),
and refuses any other runtime with ``InvalidRuntime`` and any other version with
``InvalidVersion``, comparing runtime names case-insensitively
(``openeo_driver/processgraph/process_implementations/udp.py`` ``_get_udf``).
Only "Python" is offered here: "Python-Jep" runs inside Copernicus's JVM with its own
chunking, which the emulator does not reproduce.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

from hybrid.errors import InvalidRuntime, InvalidVersion

RUNTIME = "Python"

#: libraries listed for the runtime (Copernicus's list, those installed here)
LIBRARIES = (
    "openeo", "numpy", "scipy", "pandas", "xarray", "dask", "geopandas", "netCDF4",
    "h5netcdf", "shapely", "pyproj", "rasterio",
)  # fmt: skip


def _versions() -> list[str]:
    major, minor, patch = (str(v) for v in sys.version_info[:3])
    return [major, f"{major}.{minor}", f"{major}.{minor}.{patch}"]


def _libraries() -> dict[str, dict[str, str]]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = {"version": metadata.version(name)}
        except metadata.PackageNotFoundError:
            continue
    return found


def udf_runtimes() -> dict[str, Any]:
    """The ``GET /udf_runtimes`` document."""
    versions = _versions()
    libraries = _libraries()
    return {
        RUNTIME: {
            "title": f"Python {versions[0]}",
            "description": f"Python {versions[2]} with openeo.udf; UDFs run in a separate, "
            "confined process with time and memory limits.",
            "type": "language",
            "default": versions[0],
            "versions": {v: {"libraries": libraries} for v in versions},
        }
    }


def check_runtime(runtime: Any, version: Any, *, node: str | None = None) -> None:
    """Raise ``InvalidRuntime``/``InvalidVersion`` unless this backend runs the pair."""
    if not isinstance(runtime, str) or runtime.lower() != RUNTIME.lower():
        raise InvalidRuntime(
            f"Unsupported UDF runtime {runtime!r}. Should be one of ['{RUNTIME}']", node=node
        )
    if version is not None and str(version) not in _versions():
        raise InvalidVersion(
            f"Unsupported UDF runtime version {runtime} {version!r}. "
            f"Should be one of {_versions()} or null",
            node=node,
        )
