"""What the emulator's routes depend on, built once by ``create_app``.

The route modules under :mod:`hybrid.server.routes` never construct anything: each handler
receives the :class:`Services` of its app through the :data:`Deps` dependency (titiler's
factory idea - wiring in one place, routes in small modules).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from hybrid.backends.base import Engine
from hybrid.server.auth import Authenticator
from hybrid.server.job_stac import JobSources
from hybrid.server.jobs import JobStore
from hybrid.server.oidc import LocalOidcProvider
from hybrid.server.results import ResultLinks
from hybrid.server.runner import JobRunner
from hybrid.server.settings import ServerSettings
from hybrid.server.sync_runs import SyncRuns
from hybrid.server.udp_sharing import resolve
from hybrid.server.udp_store import UdpStore


@dataclass(frozen=True, kw_only=True)
class Services:
    """The dependencies of every route: settings, engine, job store and runner, auth."""

    settings: ServerSettings
    engine: Engine
    store: JobStore
    runner: JobRunner
    auth: Authenticator
    oidc: LocalOidcProvider
    links: ResultLinks
    #: the users' user-defined processes (``/process_graphs``)
    udps: UdpStore
    #: the synchronous ``POST /result`` computations: how many at once, and stopping them
    sync_runs: SyncRuns
    #: load_stac of this server's job results, as local STAC documents
    job_sources: JobSources
    #: the processes a node without namespace calls before a stored one of the same id
    predefined: Container[str] = ()

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def resolve(
        self, graph: dict[str, Any], user_id: str | None, own_root: str | None = None
    ) -> dict[str, Any]:
        """``graph`` with the user's user-defined processes (None: anonymous) and the
        published ones its URL namespaces name inlined; ``own_root``: this server's URL."""
        return resolve(self.udps, graph, user_id, own_root, self.predefined)


def services(request: Request) -> Services:
    """FastAPI dependency: the :class:`Services` that ``create_app`` put on the app."""
    found: Services = request.app.state.services
    return found


Deps = Annotated[Services, Depends(services)]
