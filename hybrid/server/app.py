"""The local openEO API 1.2 emulator: :func:`create_app` wires the FastAPI app.

The app receives its engine (``hybrid.backends.local.LocalBackend`` from ``hybrid serve``); the
routes never import one. ``create_app`` only builds the dependencies (:class:`Services`)
and includes the route groups of :mod:`hybrid.server.routes`. Batch jobs run on a bounded
thread pool and live in SQLite under ``settings.data_dir``; authentication is HTTP Basic
(users file) or the built-in OIDC provider at ``/oidc``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from hybrid.backends.base import Engine
from hybrid.server import api_document
from hybrid.server.auth import Authenticator, Directory, load_or_create_secret
from hybrid.server.cors import Cors
from hybrid.server.errors import install_error_handlers
from hybrid.server.head_requests import HeadAsGet
from hybrid.server.job_stac import JobSources
from hybrid.server.jobs import JobStore
from hybrid.server.oidc import LocalOidcProvider, load_or_create_key
from hybrid.server.payload import BodySizeLimit
from hybrid.server.request_ids import RequestIds
from hybrid.server.results import ResultLinks
from hybrid.server.routes import ROUTERS
from hybrid.server.routes.capabilities import backend_version
from hybrid.server.runner import JobRunner
from hybrid.server.services import Services
from hybrid.server.settings import ServerSettings
from hybrid.server.sync_runs import SyncRuns
from hybrid.server.udp_sharing import PredefinedIds, resolve
from hybrid.server.udp_store import UdpStore
from hybrid.server.url_paths import MergeSlashes


def build_services(settings: ServerSettings, engine: Engine) -> Services:
    """Keys, users, the job store and its runner under ``settings.data_dir``."""
    data_dir = Path(settings.data_dir)
    directory = Directory.load(settings.users_file)  # a bad users file leaves no folder
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_secret(data_dir / "secret.key")
    oidc = LocalOidcProvider(
        directory=directory,
        key=load_or_create_key(data_dir / "oidc-signing-key.json"),
        access_token_ttl=settings.access_token_ttl,
        refresh_token_ttl=settings.refresh_token_ttl,
    )
    auth = Authenticator(
        directory=directory,
        secret=secret,
        oidc_provider_id=settings.oidc_provider_id,
        oidc_verify=oidc.verify_access_token,
        access_token_ttl=settings.access_token_ttl,
    )
    store = JobStore(data_dir / "jobs.sqlite")
    udps = UdpStore(data_dir / "process_graphs.sqlite")
    links = ResultLinks(secret=secret, ttl=settings.result_link_ttl)
    job_sources = JobSources(
        store=store, results_dir=data_dir / "jobs", links=links, data_dir=data_dir
    )
    predefined = PredefinedIds(engine)
    runner = JobRunner(
        store=store,
        engine=engine,
        results_dir=data_dir / "jobs",
        workers=settings.workers,
        max_attempts=settings.max_job_attempts,
        resolve=lambda graph, user_id, root: resolve(udps, graph, user_id, root, predefined),
        sources=job_sources,
    )
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        runner=runner,
        auth=auth,
        oidc=oidc,
        links=links,
        job_sources=job_sources,
        udps=udps,
        sync_runs=SyncRuns(settings.workers),
        predefined=predefined,
    )


def create_app(settings: ServerSettings, engine: Engine) -> FastAPI:
    """The emulator app: openEO API 1.2 routes over ``engine``, state under ``data_dir``."""
    services = build_services(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.runner.start()
        try:
            yield
        finally:
            services.sync_runs.stop_all()
            services.runner.shutdown()
            services.store.close()
            services.udps.close()

    app = FastAPI(
        title=settings.title,
        version=backend_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=api_document.PATH,
    )
    api_document.install(app)
    app.state.services = services
    # the names the auth dependency, ``hybrid serve`` and the tests read
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = services.store
    app.state.runner = services.runner
    app.state.auth = services.auth
    app.add_middleware(HeadAsGet, routes=app.router.routes)  # inside MergeSlashes
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MergeSlashes)
    install_error_handlers(app)
    app.add_middleware(Cors)  # error answers carry the headers too
    app.add_middleware(RequestIds)  # outermost: every answer has its Request-Id
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(services.oidc.router(), include_in_schema=False)
    return app
