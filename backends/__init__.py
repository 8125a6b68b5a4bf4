"""Execution backends behind one contract (:mod:`hybrid.backends.base`).

``get_backend(name, settings)`` looks a backend up by name - "local", "copernicus" or
any openEO URL (the table is :mod:`hybrid.backends.names`) - the way xarray looks up engines;
nothing is imported until asked for. Each backend has its own settings object
(:class:`hybrid.backends.local.LocalSettings`, :class:`hybrid.backends.remote.RemoteSettings`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid.backends.names import LOCAL, known_names, remote_url
from hybrid.errors import UsageError

if TYPE_CHECKING:
    from hybrid.backends.base import Backend
    from hybrid.backends.local import LocalSettings
    from hybrid.backends.remote import RemoteSettings


def get_backend(name: str, settings: LocalSettings | RemoteSettings | None = None) -> Backend:
    """The backend called ``name``: "local", "copernicus", or an http(s) openEO URL."""
    if name == LOCAL:
        from hybrid.backends.local import LocalBackend, LocalSettings

        if settings is not None and not isinstance(settings, LocalSettings):
            raise TypeError(f"the local backend takes LocalSettings, not {type(settings)}")
        return LocalBackend(settings)
    url = remote_url(name)
    if url is None:
        raise UsageError(
            f"unknown backend '{name}'; use {', '.join(known_names())} or an openEO URL "
            "(http://...)"
        )
    from hybrid.backends.remote import RemoteBackend, RemoteSettings

    if settings is not None and not isinstance(settings, RemoteSettings):
        raise TypeError(f"a remote backend takes RemoteSettings, not {type(settings)}")
    return RemoteBackend(url, settings)
