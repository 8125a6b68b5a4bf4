"""``/credentials/basic``, ``/credentials/oidc`` and ``/me``.

The OIDC provider's own endpoints (``/oidc/...``) come from
:meth:`hybrid.server.oidc.LocalOidcProvider.router`; they are not openEO endpoints.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.server.auth import PUBLIC_CLIENT_ID, CurrentUser
from hybrid.server.oidc import DEVICE_GRANT
from hybrid.server.payload import base_url
from hybrid.server.services import Deps

router = APIRouter()


@router.get("/credentials/basic")
def credentials_basic(request: Request, deps: Deps) -> JSONResponse:
    token = deps.auth.basic_token(request.headers.get("authorization"))
    return JSONResponse({"access_token": token})


@router.get("/credentials/oidc")
def credentials_oidc(request: Request, deps: Deps) -> JSONResponse:
    grants = [f"{DEVICE_GRANT}+pkce", DEVICE_GRANT, "refresh_token"]
    provider = {
        "id": deps.settings.oidc_provider_id,
        "issuer": f"{base_url(request)}/oidc",
        "title": "Local login (hybrid serve)",
        "description": "The emulator's own OpenID Connect provider: device logins are "
        "approved at once for the local user; client_credentials for configured clients.",
        "scopes": ["openid"],
        "default_clients": [{"id": PUBLIC_CLIENT_ID, "grant_types": grants}],
    }
    return JSONResponse({"providers": [provider]})


@router.get("/me")
def me(user: CurrentUser) -> JSONResponse:
    """Without ``storage`` and ``budget``, as Copernicus answers (no limit applies):
    openeo-python-driver ``openeo_driver/views.py`` L606-620 ``me`` drops every None
    (``dict_no_none``). The API 1.2 text asks for nulls there, but both are optional
    properties of its schema (only ``user_id`` is required)."""
    return JSONResponse({"user_id": user.user_id, "name": user.name, "links": []})
