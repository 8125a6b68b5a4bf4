"""The emulator's route groups, one module each; ``create_app`` includes :data:`ROUTERS`.

A new group is one module exposing ``router`` plus one line here. Handlers get their
dependencies from :data:`hybrid.server.services.Deps`.
"""

from __future__ import annotations

from fastapi import APIRouter

from hybrid.server.routes import (
    batch_jobs,
    capabilities,
    collections,
    credentials,
    downloads,
    process_graphs,
    processes,
    sync,
    udf,
    unimplemented,
    web_services,
)

ROUTERS: tuple[APIRouter, ...] = (
    capabilities.router,
    collections.router,
    processes.router,
    process_graphs.router,
    udf.router,
    credentials.router,
    sync.router,
    batch_jobs.router,
    downloads.router,
    web_services.router,
    unimplemented.router,
)
