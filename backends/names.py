"""The one table of execution backends: their names, aliases and URLs."""

from __future__ import annotations

#: the in-process engine (openeo-processes-dask over STAC-described COGs)
LOCAL = "local"
#: named remote openEO backends; any other http(s) URL works too
REMOTE_ALIASES = {"copernicus": "https://openeo.dataspace.copernicus.eu"}
COPERNICUS_URL = REMOTE_ALIASES["copernicus"]


def remote_url(name: str) -> str | None:
    """``copernicus`` -> its URL; an http(s) URL without trailing slash; else None."""
    url = REMOTE_ALIASES.get(name.lower(), name)
    if not url.startswith(("http://", "https://")):
        return None
    return url.rstrip("/")


def known_names() -> list[str]:
    """What ``--backend`` accepts by name (plus any openEO URL)."""
    return [LOCAL, *REMOTE_ALIASES]
