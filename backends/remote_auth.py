"""How the remote backend authenticates: the credential sources it finds and tries.

The same sources as the openeo client, in this order: client credentials from the
environment (``OPENEO_AUTH_METHOD=client_credentials``, ``OPENEO_AUTH_CLIENT_ID``,
``OPENEO_AUTH_CLIENT_SECRET``), OIDC (device flow on a terminal, else a stored refresh
token), basic auth from ``OPENEO_AUTH_USERNAME``/``OPENEO_AUTH_PASSWORD``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hybrid.errors import AuthenticationError, first_line

if TYPE_CHECKING:
    import openeo

CREDENTIALS_HELP = (
    "set OPENEO_AUTH_METHOD=client_credentials with OPENEO_AUTH_CLIENT_ID, "
    "OPENEO_AUTH_CLIENT_SECRET (and OPENEO_AUTH_PROVIDER_ID), or OPENEO_AUTH_USERNAME and "
    "OPENEO_AUTH_PASSWORD for basic auth, or log in once interactively (device flow) "
    "from a terminal"
)
#: an OIDC token endpoint's answer to wrong client credentials
_REJECTED = re.compile(r"\b40[13]\b|invalid_client|unauthorized_client|invalid_grant")


def authenticate(connection: openeo.Connection, url: str, auth: str) -> None:
    """Authenticate ``connection`` by ``auth`` (auto: every source found, in order)."""
    from openeo.rest import OpenEoApiError, OpenEoClientException

    if auth == "none":
        return
    modes = credential_sources(os.environ) if auth == "auto" else [auth]
    if not modes:
        raise AuthenticationError(f"no credentials for {url}: {CREDENTIALS_HELP}")
    failures = []
    for mode in modes:
        try:
            _authenticate_with(connection, url, mode)
            return
        except OpenEoApiError as exc:
            if exc.http_status_code in (401, 403):
                raise AuthenticationError(
                    f"{url} rejected the {mode} credentials ({exc.code}: {exc.message}): "
                    "check them, or " + CREDENTIALS_HELP
                ) from None
            raise
        except OpenEoClientException as exc:
            text = first_line(exc)
            if mode == "client_credentials" and _REJECTED.search(text):
                raise AuthenticationError(
                    f"{url} rejected the client_credentials ({text}): check "
                    "OPENEO_AUTH_CLIENT_ID, OPENEO_AUTH_CLIENT_SECRET, OPENEO_AUTH_PROVIDER_ID"
                ) from None
            # e.g. the backend offers no OIDC provider: try the next source
            failures.append(f"{mode}: {text}")
    raise AuthenticationError(
        f"authentication with {url} failed ({'; '.join(failures)}): {CREDENTIALS_HELP}"
    )


def _authenticate_with(connection: openeo.Connection, url: str, mode: str) -> None:
    env = os.environ
    if mode == "client_credentials":
        connection.authenticate_oidc_client_credentials()
    elif mode in ("oidc", "interactive"):
        connection.authenticate_oidc(display=lambda text: print(text, file=sys.stderr))
    elif mode == "refresh_token":
        connection.authenticate_oidc_refresh_token()
    elif mode == "basic":
        user, password = env.get("OPENEO_AUTH_USERNAME"), env.get("OPENEO_AUTH_PASSWORD")
        if not user or not password:
            raise AuthenticationError(
                f"basic auth with {url} needs OPENEO_AUTH_USERNAME and OPENEO_AUTH_PASSWORD"
            )
        connection.authenticate_basic(user, password)


def credential_sources(env: Mapping[str, str]) -> list[str]:
    """The credentials ``auth="auto"`` tries, in order (client credentials from the
    environment, OIDC refresh token / device flow, basic auth from the environment)."""
    sources = []
    if env.get("OPENEO_AUTH_METHOD") == "client_credentials" or (
        env.get("OPENEO_AUTH_CLIENT_ID") and env.get("OPENEO_AUTH_CLIENT_SECRET")
    ):
        sources.append("client_credentials")
    if sys.stdin is not None and sys.stdin.isatty():
        sources.append("interactive")
    elif _has_refresh_tokens():
        sources.append("refresh_token")
    if env.get("OPENEO_AUTH_USERNAME") and env.get("OPENEO_AUTH_PASSWORD"):
        sources.append("basic")
    return sources


def _has_refresh_tokens() -> bool:
    from openeo.rest.auth.config import RefreshTokenStore

    try:
        return bool(RefreshTokenStore().load(empty_on_file_not_found=True))
    except (OSError, ValueError):
        return False
