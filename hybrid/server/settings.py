"""Configuration of the local openEO emulator: one frozen object, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hybrid.limits import MAX_BODY_BYTES

#: where ``hybrid serve`` keeps its job database and results unless told otherwise
DEFAULT_DATA_DIR = Path("hybrid-serve-data")


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Everything ``create_app`` needs besides the engine."""

    #: job database, job results, signing keys (created when missing)
    data_dir: Path = DEFAULT_DATA_DIR
    #: TOML or JSON file with users and OIDC clients (None = the built-in local user)
    users_file: Path | None = None
    #: size of the batch-job worker pool
    workers: int = 2
    #: lifetime of access tokens (basic and OIDC), seconds
    access_token_ttl: float = 3600.0
    #: lifetime of OIDC refresh tokens, seconds
    refresh_token_ttl: float = 30 * 24 * 3600.0
    #: lifetime of signed result download links, seconds
    result_link_ttl: float = 7 * 24 * 3600.0
    #: requests with a larger body are refused with 413
    max_body_bytes: int = MAX_BODY_BYTES
    #: how often a job interrupted by a server stop is re-queued before it is set to error
    max_job_attempts: int = 3
    #: the OIDC provider id in ``/credentials/oidc`` and in ``oidc/ID/TOKEN`` bearer tokens
    oidc_provider_id: str = "local"
    #: seconds an idle keep-alive connection stays open; longer than a polling client's
    #: interval, so a poll never races the server closing its connection (uvicorn: 5 s)
    keep_alive_seconds: int = 75
    #: shown in the capabilities document
    title: str = "hybrid local openEO emulator"
    backend_id: str = "hybrid-local"
