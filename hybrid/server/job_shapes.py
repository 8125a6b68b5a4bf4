"""The openEO API 1.2 shapes of batch jobs, their results and logs, and of the request
bodies that run a graph (``POST /jobs``, ``PATCH /jobs/{id}``, ``POST /result``), as typed
dicts written from the API's ``openapi.yaml`` like :mod:`hybrid.server.api_shapes`, whose
common shapes they use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from hybrid.server.api_shapes import (
    OPEN_OBJECT,
    CollectionId,
    DateTime,
    Extent,
    JobId,
    JobStatus,
    Link,
    LogLevel,
    Money,
    Process,
    ProcessId,
    Url,
)


@with_config(OPEN_OBJECT)
class JobSummary(TypedDict):
    id: JobId
    title: NotRequired[str | None]
    description: NotRequired[str | None]
    status: JobStatus
    progress: NotRequired[Annotated[float, Field(ge=0, le=100)]]
    created: DateTime
    updated: NotRequired[DateTime]
    plan: NotRequired[str | None]
    costs: NotRequired[Money]
    budget: NotRequired[Money]
    links: NotRequired[list[Link]]


class Jobs(TypedDict):
    jobs: list[JobSummary]
    links: list[Link]


class UsageMetric(TypedDict):
    value: float
    unit: str


@with_config(OPEN_OBJECT)
class JobMetadata(JobSummary):
    process: Process
    usage: NotRequired[dict[str, UsageMetric]]
    log_level: NotRequired[LogLevel]


@with_config(OPEN_OBJECT)
class Estimate(TypedDict):
    costs: NotRequired[Money]
    duration: NotRequired[str]
    size: NotRequired[int]
    downloads_included: NotRequired[int | None]
    expires: NotRequired[DateTime]


@with_config(OPEN_OBJECT)
class Asset(TypedDict):
    href: Url
    title: NotRequired[str]
    type: NotRequired[str]
    roles: NotRequired[list[str]]


@with_config(OPEN_OBJECT)
class JobResults(TypedDict):
    """The STAC Item of a job's results (``batch_job_result``), the only shape the API
    gives ``application/geo+json``."""

    stac_version: str
    stac_extensions: NotRequired[list[str]]
    id: str
    type: Literal["Feature"]
    bbox: NotRequired[Annotated[list[float], Field(min_length=4, max_length=6)] | None]
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    assets: dict[str, Asset]
    links: list[Link]


#: The STAC Collection of a job's results (API 1.2 ``/jobs/{job_id}/results`` 200, "Batch
#: Job Results Response as STAC Collection": a ``collection`` that requires ``assets``),
#: what Copernicus answers at API >= 1.1. Functional syntax for the ``openeo:status`` key.
JobResultsCollection = TypedDict(
    "JobResultsCollection",
    {
        "stac_version": str,
        "stac_extensions": NotRequired[list[str]],
        "type": NotRequired[Literal["Collection"]],
        "id": CollectionId,
        "title": NotRequired[str],
        "description": str,
        "license": str,
        "extent": Extent,
        "links": list[Link],
        "summaries": NotRequired[dict[str, Any]],
        "providers": NotRequired[list[dict[str, Any]]],
        "assets": dict[str, Asset],
        "openeo:status": NotRequired[Literal["running", "canceled", "finished", "error"]],
    },
)
with_config(OPEN_OBJECT)(JobResultsCollection)


class NodePath(TypedDict):
    node_id: str
    process_id: NotRequired[ProcessId]
    namespace: NotRequired[str | None]
    parameter: NotRequired[str | None]


@with_config(OPEN_OBJECT)
class LogEntry(TypedDict):
    id: str
    code: NotRequired[str]
    level: LogLevel
    message: str
    time: NotRequired[DateTime]
    data: NotRequired[Any]
    path: NotRequired[list[NodePath]]
    links: NotRequired[list[Link]]


class Logs(TypedDict):
    #: the ``level`` asked for, as given: Copernicus writes it back whatever its text
    #: (openeo-python-driver views.py ``get_job_logs`` L1938-1943)
    level: NotRequired[str]
    logs: list[LogEntry]
    links: list[Link]


class JobRequest(TypedDict):
    """``POST /jobs`` (``PATCH /jobs/{id}``: every field optional)."""

    title: NotRequired[str | None]
    description: NotRequired[str | None]
    process: Process
    plan: NotRequired[str | None]
    budget: NotRequired[Money]
    log_level: NotRequired[LogLevel]


@with_config(ConfigDict(extra="forbid"))
class JobUpdate(TypedDict):
    title: NotRequired[str | None]
    description: NotRequired[str | None]
    process: NotRequired[Process]
    plan: NotRequired[str | None]
    budget: NotRequired[Money]
    log_level: NotRequired[LogLevel]


class SyncRequest(TypedDict):
    """``POST /result``."""

    process: Process
    plan: NotRequired[str | None]
    budget: NotRequired[Money]
    log_level: NotRequired[LogLevel]
