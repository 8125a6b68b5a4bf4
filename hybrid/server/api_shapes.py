"""The openEO API 1.2 request and response shapes the emulator implements, as typed dicts.

Written from the API's ``openapi.yaml`` (components/schemas and the paths' 200 bodies): the
same required fields, enums, patterns and nullability, objects open to additional
properties where the API's are. :mod:`hybrid.server.api_document` turns them (and
:mod:`hybrid.server.job_shapes`) into the
emulator's own OpenAPI document (pydantic's JSON Schema), which schemathesis checks every
answer against (``tests/server/test_server_openapi.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

OPEN_OBJECT = ConfigDict(extra="allow")

ProcessId = Annotated[str, Field(pattern=r"^\w+$")]
JobId = Annotated[str, Field(pattern=r"^[\w\-\.~]+$")]
CollectionId = Annotated[str, Field(pattern=r"^[\w\-\.~\/]+$")]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Money = Annotated[float | None, Field(ge=0)]
LogLevel = Literal["error", "warning", "info", "debug"]
JobStatus = Literal["created", "queued", "running", "canceled", "finished", "error"]
Method = Literal["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]
GrantType = Literal[
    "implicit",
    "authorization_code",
    "authorization_code+pkce",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:device_code+pkce",
    "refresh_token",
]


@with_config(OPEN_OBJECT)
class Link(TypedDict):
    href: Url
    rel: str
    type: NotRequired[str]
    title: NotRequired[str]


@with_config(OPEN_OBJECT)
class Error(TypedDict):
    """The body of every 4xx/5xx answer (``components/schemas/error``)."""

    id: NotRequired[str]
    code: str
    message: str
    links: NotRequired[list[Link]]


class Endpoint(TypedDict):
    path: str
    methods: list[Method]


@with_config(OPEN_OBJECT)
class Capabilities(TypedDict):
    api_version: str
    backend_version: str
    stac_version: str
    type: NotRequired[Literal["Catalog"]]
    id: str
    title: str
    description: str
    production: NotRequired[bool]
    conformsTo: NotRequired[list[Url]]
    endpoints: list[Endpoint]
    links: list[Link]


class ApiVersion(TypedDict):
    url: Url
    api_version: str
    production: NotRequired[bool]


class WellKnown(TypedDict):
    versions: list[ApiVersion]


class Conformance(TypedDict):
    conformsTo: list[Url]


@with_config(OPEN_OBJECT)
class FileFormat(TypedDict):
    title: NotRequired[str]
    description: NotRequired[str]
    gis_data_types: list[Literal["raster", "vector", "table", "pointcloud", "other"]]
    parameters: dict[str, dict[str, Any]]
    links: NotRequired[list[Link]]


class FileFormats(TypedDict):
    input: dict[str, FileFormat]
    output: dict[str, FileFormat]


@with_config(OPEN_OBJECT)
class ServiceType(TypedDict):
    configuration: dict[str, Any]
    process_parameters: list[dict[str, Any]]


@with_config(OPEN_OBJECT)
class Service(TypedDict):
    """One secondary web service (``components/schemas/service``); none is ever listed."""

    id: str
    url: Url
    type: str
    enabled: bool


class Services(TypedDict):
    services: list[Service]
    links: list[Link]


@with_config(OPEN_OBJECT)
class ServiceRequest(TypedDict):
    """``POST /services`` (refused: no service type is offered)."""

    type: str
    process: dict[str, Any]


class SpatialExtent(TypedDict):
    bbox: list[Annotated[list[float], Field(min_length=4, max_length=6)]]


class TemporalExtent(TypedDict):
    interval: list[Annotated[list[DateTime | None], Field(min_length=2, max_length=2)]]


@with_config(OPEN_OBJECT)
class Extent(TypedDict):
    spatial: SpatialExtent
    temporal: TemporalExtent


@with_config(OPEN_OBJECT)
class Collection(TypedDict):
    stac_version: str
    stac_extensions: NotRequired[list[str]]
    type: NotRequired[Literal["Collection"]]
    id: CollectionId
    title: NotRequired[str]
    description: str
    keywords: NotRequired[list[str]]
    license: str
    extent: Extent
    links: list[Link]
    summaries: NotRequired[dict[str, Any]]


class Collections(TypedDict):
    collections: list[Collection]
    links: list[Link]


@with_config(OPEN_OBJECT)
class ProcessNode(TypedDict):
    process_id: ProcessId
    namespace: NotRequired[str | None]
    result: NotRequired[bool]
    description: NotRequired[str | None]
    arguments: dict[str, Any]


ProcessGraph = Annotated[dict[str, ProcessNode], Field(min_length=1)]


@with_config(OPEN_OBJECT)
class Process(TypedDict):
    """A process with its graph (``process_graph_with_metadata``): request bodies, stored
    user-defined processes."""

    id: NotRequired[ProcessId]
    summary: NotRequired[str | None]
    description: NotRequired[str | None]
    categories: NotRequired[list[str]]
    parameters: NotRequired[list[dict[str, Any]] | None]
    returns: NotRequired[dict[str, Any] | None]
    process_graph: ProcessGraph


@with_config(OPEN_OBJECT)
class ProcessDescription(TypedDict):
    """An entry of ``GET /processes`` (the API requires these four fields)."""

    id: ProcessId
    description: str
    parameters: list[dict[str, Any]]
    returns: dict[str, Any]


class Processes(TypedDict):
    processes: list[ProcessDescription]
    links: list[Link]


@with_config(OPEN_OBJECT)
class StoredProcessSummary(TypedDict):
    id: ProcessId
    summary: NotRequired[str | None]
    description: NotRequired[str | None]
    parameters: NotRequired[list[dict[str, Any]] | None]
    returns: NotRequired[dict[str, Any] | None]


class StoredProcesses(TypedDict):
    processes: list[StoredProcessSummary]
    links: list[Link]


@with_config(OPEN_OBJECT)
class UdfRuntime(TypedDict):
    type: Literal["language", "docker"]
    default: str


class BasicToken(TypedDict):
    access_token: str


class DefaultClient(TypedDict):
    id: str
    grant_types: Annotated[list[GrantType], Field(min_length=1)]
    redirect_urls: NotRequired[list[Url]]


@with_config(OPEN_OBJECT)
class OidcProvider(TypedDict):
    id: Annotated[str, Field(pattern=r"[\d\w]{1,20}")]
    issuer: Url
    title: str
    description: NotRequired[str]
    scopes: NotRequired[list[str]]
    default_clients: NotRequired[list[DefaultClient]]
    links: NotRequired[list[Link]]


class OidcProviders(TypedDict):
    providers: Annotated[list[OidcProvider], Field(min_length=1)]


class Storage(TypedDict):
    free: int
    quota: int


@with_config(OPEN_OBJECT)
class Me(TypedDict):
    user_id: JobId
    name: NotRequired[str]
    default_plan: NotRequired[str]
    storage: NotRequired[Storage | None]
    budget: NotRequired[float | None]
    links: NotRequired[list[Link]]


class ValidationResult(TypedDict):
    errors: list[Error]
