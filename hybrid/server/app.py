"""The local openEO API 1.2 emulator: :func:`create_app` builds the FastAPI app.

The app receives its engine (``backends.local.LocalBackend`` from ``hybrid serve``); the
routes never import one. Batch jobs run on a bounded thread pool and live in SQLite
under ``settings.data_dir``; authentication is HTTP Basic (users file) or the built-in
OIDC provider at ``/oidc``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from hybrid.collection import sentinel2_l2a
from hybrid.errors import CollectionNotFound, FormatUnsuitable, HybridError
from hybrid.server.auth import (
    PUBLIC_CLIENT_ID,
    Authenticator,
    CurrentUser,
    Directory,
    load_or_create_secret,
)
from hybrid.server.errors import error_body, install_error_handlers
from hybrid.server.job_routes import job_router
from hybrid.server.jobs import Engine, JobStore
from hybrid.server.oidc import DEVICE_GRANT, LocalOidcProvider, load_or_create_key
from hybrid.server.payload import BodySizeLimit, base_url, process_graph, read_json
from hybrid.server.results import STAC_VERSION, ResultLinks, media_type
from hybrid.server.runner import JobRunner
from hybrid.server.settings import ServerSettings

_log = logging.getLogger(__name__)

API_VERSION = "1.2.0"

#: every endpoint besides ``GET /``, as the capabilities document lists it
ENDPOINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/.well-known/openeo", ("GET",)),
    ("/conformance", ("GET",)),
    ("/file_formats", ("GET",)),
    ("/collections", ("GET",)),
    ("/collections/{collection_id}", ("GET",)),
    ("/processes", ("GET",)),
    ("/credentials/basic", ("GET",)),
    ("/credentials/oidc", ("GET",)),
    ("/me", ("GET",)),
    ("/validation", ("POST",)),
    ("/result", ("POST",)),
    ("/jobs", ("GET", "POST")),
    ("/jobs/{job_id}", ("GET", "PATCH", "DELETE")),
    ("/jobs/{job_id}/results", ("GET", "POST", "DELETE")),
    ("/jobs/{job_id}/logs", ("GET",)),
)

_CONFORMANCE = (
    "https://api.openeo.org/1.2.0",
    "https://api.stacspec.org/v1.0.0/collections",
)


def _version() -> str:
    try:
        return metadata.version("hybrid")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def _file_formats() -> dict[str, Any]:
    def raster(title: str) -> dict[str, Any]:
        return {"title": title, "gis_data_types": ["raster"], "parameters": {}}

    return {
        "input": {},
        "output": {
            "netCDF": raster("Network Common Data Form (CF-1.9)"),
            "GTiff": raster("GeoTiff, one file per date"),
        },
    }


def _collection(request: Request) -> dict[str, Any]:
    root = base_url(request)
    meta = sentinel2_l2a()
    extensions = [
        "https://stac-extensions.github.io/datacube/v2.2.0/schema.json",
        "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    ]
    own_links = [
        {"rel": "self", "href": f"{root}/collections/{meta['id']}", "type": "application/json"},
        {"rel": "parent", "href": f"{root}/collections", "type": "application/json"},
        {"rel": "root", "href": f"{root}/", "type": "application/json"},
    ]
    # the layer catalog writes the start as a date; the API wants RFC 3339 date-times
    meta["extent"]["temporal"]["interval"] = [
        [_datetime(value) for value in interval]
        for interval in meta["extent"]["temporal"]["interval"]
    ]
    return {
        "stac_version": STAC_VERSION,
        "stac_extensions": extensions,
        "type": "Collection",
        **meta,
        "links": own_links + meta["links"],
    }


def _datetime(value: str | None) -> str | None:
    if value is None or "T" in value:
        return value
    return f"{value}T00:00:00Z"


def create_app(settings: ServerSettings, engine: Engine) -> FastAPI:
    """The emulator app: openEO API 1.2 routes over ``engine``, state under ``data_dir``."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    directory = Directory.load(settings.users_file)
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
    runner = JobRunner(
        store=store,
        engine=engine,
        results_dir=data_dir / "jobs",
        workers=settings.workers,
        max_attempts=settings.max_job_attempts,
    )
    links = ResultLinks(secret=secret, ttl=settings.result_link_ttl)
    sync_slots = threading.BoundedSemaphore(max(1, settings.workers))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        try:
            yield
        finally:
            runner.shutdown()
            store.close()

    app = FastAPI(
        title=settings.title,
        version=_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = store
    app.state.runner = runner
    app.state.auth = auth
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)

    @app.get("/")
    def capabilities(request: Request) -> JSONResponse:
        root = base_url(request)
        return JSONResponse(
            {
                "api_version": API_VERSION,
                "backend_version": _version(),
                "stac_version": STAC_VERSION,
                "type": "Catalog",
                "id": settings.backend_id,
                "title": settings.title,
                "description": "A local emulation of an openEO API 1.2 backend: the Copernicus "
                f"SENTINEL2_L2A NDVI workflow runs offline on the '{engine.name}' engine.",
                "production": False,
                "conformsTo": list(_CONFORMANCE),
                "endpoints": [{"path": p, "methods": list(m)} for p, m in ENDPOINTS],
                "links": [
                    {"rel": "self", "href": f"{root}/", "type": "application/json"},
                    {"rel": "data", "href": f"{root}/collections", "type": "application/json"},
                    {"rel": "conformance", "href": f"{root}/conformance"},
                    {"rel": "version-history", "href": f"{root}/.well-known/openeo"},
                ],
            }
        )

    @app.get("/.well-known/openeo")
    def well_known(request: Request) -> JSONResponse:
        version = {"url": f"{base_url(request)}/", "api_version": API_VERSION, "production": False}
        return JSONResponse({"versions": [version]})

    @app.get("/conformance")
    def conformance() -> JSONResponse:
        return JSONResponse({"conformsTo": list(_CONFORMANCE)})

    @app.get("/file_formats")
    def file_formats() -> JSONResponse:
        return JSONResponse(_file_formats())

    @app.get("/collections")
    def collections(request: Request) -> JSONResponse:
        return JSONResponse({"collections": [_collection(request)], "links": []})

    @app.get("/collections/{collection_id}")
    def collection(collection_id: str, request: Request) -> JSONResponse:
        meta = _collection(request)
        if collection_id != meta["id"]:
            raise CollectionNotFound(
                f"Collection '{collection_id}' does not exist: this backend has '{meta['id']}'."
            )
        return JSONResponse(meta)

    @app.get("/processes")
    def processes() -> JSONResponse:
        return JSONResponse({"processes": engine.process_specs(), "links": []})

    @app.get("/credentials/basic")
    def credentials_basic(request: Request) -> JSONResponse:
        token = auth.basic_token(request.headers.get("authorization"))
        return JSONResponse({"access_token": token})

    @app.get("/credentials/oidc")
    def credentials_oidc(request: Request) -> JSONResponse:
        grants = [f"{DEVICE_GRANT}+pkce", DEVICE_GRANT, "refresh_token"]
        provider = {
            "id": settings.oidc_provider_id,
            "issuer": f"{base_url(request)}/oidc",
            "title": "Local login (hybrid serve)",
            "description": "The emulator's own OpenID Connect provider: device logins are "
            "approved at once for the local user; client_credentials for configured clients.",
            "scopes": ["openid"],
            "default_clients": [{"id": PUBLIC_CLIENT_ID, "grant_types": grants}],
        }
        return JSONResponse({"providers": [provider]})

    @app.get("/me")
    def me(user: CurrentUser) -> JSONResponse:
        return JSONResponse(
            {
                "user_id": user.user_id,
                "name": user.name,
                "storage": None,
                "budget": None,
                "links": [],
            }
        )

    @app.post("/validation")
    async def validation(request: Request) -> JSONResponse:
        body = await read_json(request)
        if "process_graph" in body:  # the spec's body: the process itself
            body = {"process": body}
        try:
            await run_in_threadpool(engine.validate, process_graph(body))
        except HybridError as exc:
            if exc.status >= 500:
                raise
            return JSONResponse({"errors": [error_body(exc)]})
        return JSONResponse({"errors": []})

    @app.post("/result")
    async def result(request: Request, user: CurrentUser) -> FileResponse:
        graph = process_graph(await read_json(request))
        await run_in_threadpool(engine.validate, graph)
        _log.info("synchronous result for %s", user.user_id)
        out_dir = Path(tempfile.mkdtemp(prefix="sync-", dir=data_dir))
        try:
            files = await run_in_threadpool(_execute_sync, graph, out_dir)
        except BaseException:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise
        return FileResponse(
            files[0],
            media_type=media_type(files[0].name),
            filename=files[0].name,
            background=BackgroundTask(shutil.rmtree, out_dir, ignore_errors=True),
        )

    def _execute_sync(graph: dict[str, Any], out_dir: Path) -> list[Path]:
        with sync_slots:
            files = [Path(f) for f in engine.execute(graph, out_dir=out_dir).files]
        if len(files) != 1:
            raise FormatUnsuitable(
                f"The synchronous result has {len(files)} files (GTiff writes one per date): "
                "use save_result format 'netCDF', or a batch job (execute_batch)."
            )
        return files

    app.include_router(oidc.router())
    app.include_router(job_router(store=store, runner=runner, links=links, engine=engine))
    return app
