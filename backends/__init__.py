"""Execution backends behind one contract (:mod:`backends.base`).

``get_backend(name)`` looks a backend up by name - "local", "copernicus" or any openEO
URL - the way xarray looks up engines; nothing is imported until asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybrid.errors import UsageError

if TYPE_CHECKING:
    from backends.base import Backend

#: named remote backends
REMOTE_ALIASES = {"copernicus": "https://openeo.dataspace.copernicus.eu"}


@dataclass(frozen=True)
class BackendOptions:
    """Options a backend may use; each ignores what does not concern it."""

    stac: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    progress: bool = False


def get_backend(name: str, options: BackendOptions | None = None) -> Backend:
    """The backend called ``name``: "local", "copernicus", or an http(s) openEO URL."""
    options = options or BackendOptions()
    if name == "local":
        from backends.local import LocalBackend, LocalSettings

        return LocalBackend(
            LocalSettings(
                stac=options.stac,
                scheduler=options.scheduler,
                workers=options.workers,
                progress=options.progress,
            )
        )
    url = REMOTE_ALIASES.get(name, name)
    if url.startswith(("http://", "https://")):
        from backends.remote import RemoteBackend

        return RemoteBackend(url, progress=options.progress)
    raise UsageError(
        f"unknown backend '{name}'; use local, copernicus or an openEO URL (http://...)"
    )


def backend_names() -> list[str]:
    return ["local", *REMOTE_ALIASES]
