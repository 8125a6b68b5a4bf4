"""``/credentials/basic``, ``/credentials/oidc`` and ``/me``.

The OIDC provider's own endpoints (``/oidc/...``) come from
:meth:`hybrid.server.oidc.LocalOidcProvider.router`; they are not openEO endpoints.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.server.auth import PUBLIC_CLIENT_ID, CurrentUser, is_oidc_bearer
from hybrid.server.oidc import DEVICE_GRANT, userinfo_claims
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
def me(request: Request, user: CurrentUser, deps: Deps) -> JSONResponse:
    """As Copernicus answers: openeo-python-driver 9e5b49b2 ``views.py`` L606-620 drops
    every None (``dict_no_none``; no ``storage``, ``budget``, ``links``, and geopyspark-driver
    sets no roles or default plan). A basic-auth user has only an id, so its ``name`` is the
    id (``users/user.py`` ``get_name`` fallback, ``auth.py`` L174-186); an OIDC user has
    ``info.oidc_userinfo`` and the name from it (``auth.py`` L263)."""
    if not is_oidc_bearer(request.headers.get("authorization")):
        return JSONResponse({"user_id": user.user_id, "name": user.user_id})
    claims = userinfo_claims(deps.auth.directory, user.user_id)
    return JSONResponse(
        {"user_id": user.user_id, "name": claims["name"], "info": {"oidc_userinfo": claims}}
    )
