"""The emulator's built-in OpenID Connect provider, mounted at ``/oidc``.

Enough OIDC for the unchanged openeo client: discovery, JWKS, the device authorization
grant (RFC 8628, with or without PKCE; approved at once for the configured local user,
no browser needed), ``client_credentials``, ``refresh_token`` and userinfo. Tokens are
RS256 JWTs signed with joserfc (Authlib's JOSE library); the key is kept in the data
folder so tokens survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from hybrid.atomic import atomic_path
from hybrid.errors import HybridError
from hybrid.server.auth import Directory, OidcClient, parse_basic_header
from hybrid.server.errors import ApiError, TokenInvalid

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: seconds a device code stays valid
_DEVICE_CODE_TTL = 600


class OAuthError(HybridError):
    """An RFC 6749 error answer of the token or device endpoints (RFC 6749 5.2: 400).

    Answered with :meth:`response` as the RFC's ``error`` JSON the OAuth client reads,
    not as openEO error JSON: every route of the provider catches it."""

    status = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        #: the RFC's error code (``invalid_grant``, ``invalid_client``, ...)
        self.error = error

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.message},
            status_code=self.status,
            headers={"Cache-Control": "no-store"},
        )


class OAuthUnauthorized(OAuthError):
    """An OAuth error answered with 401: a client that failed to authenticate (RFC 6749
    5.2 ``invalid_client``) or a bad bearer token (RFC 6750 3.1 ``invalid_token``)."""

    status = 401


def load_or_create_key(path: Path) -> RSAKey:
    """The provider's RSA signing key, generated once and kept in ``path``."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    key = RSAKey.generate_key(2048, auto_kid=True)
    with atomic_path(path, mode=0o600) as partial:
        partial.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    return key


@dataclass(frozen=True)
class _DeviceGrant:
    client_id: str
    scope: str
    code_challenge: str | None
    expires: float


def userinfo_claims(directory: Directory, user_id: str) -> dict[str, str]:
    """What the provider's userinfo endpoint says about ``user_id``."""
    user = directory.user(user_id)
    name = user.name if user else user_id
    return {"sub": user_id, "name": name, "preferred_username": user_id}


def _issuer(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/oidc"


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


class LocalOidcProvider:
    """Signs and checks the tokens; :meth:`router` serves the OIDC endpoints."""

    def __init__(
        self,
        *,
        directory: Directory,
        key: RSAKey,
        access_token_ttl: float,
        refresh_token_ttl: float,
    ) -> None:
        self.directory = directory
        self._key = key
        self._access_ttl = access_token_ttl
        self._refresh_ttl = refresh_token_ttl
        self._device_grants: dict[str, _DeviceGrant] = {}
        self._lock = threading.Lock()

    # -- tokens ------------------------------------------------------------------------

    def _sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self._key.kid}, dict(claims), self._key)

    def _decode(self, token: str, *, use: str) -> dict[str, Any]:
        try:
            claims = dict(jwt.decode(token, self._key, algorithms=["RS256"]).claims)
        except (JoseError, ValueError) as exc:
            raise TokenInvalid(f"The OIDC {use} token is not valid: {exc}.") from exc
        if claims.get("token_use") != use or float(claims.get("exp", 0)) < time.time():
            raise TokenInvalid(f"The OIDC {use} token has expired or is not an {use} token.")
        return claims

    def verify_access_token(self, token: str) -> str:
        """The user id of a valid access token (raises ``TokenInvalid``)."""
        return str(self._decode(token, use="access")["sub"])

    def _tokens(
        self, *, issuer: str, client: OidcClient, user_id: str, scope: str, refresh: bool
    ) -> dict[str, Any]:
        now = time.time()
        base = {"iss": issuer, "sub": user_id, "aud": client.client_id, "iat": int(now)}
        # NumericDate seconds, rounded up: a token lives at least its ttl
        access_exp = math.ceil(now + self._access_ttl)
        access = self._sign(
            {
                **base,
                "exp": access_exp,
                "jti": uuid.uuid4().hex,
                "scope": scope,
                "token_use": "access",
                "client_id": client.client_id,
            }
        )
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": math.ceil(self._access_ttl),
            "scope": scope,
        }
        if "openid" in scope.split():
            user = self.directory.user(user_id)
            answer["id_token"] = self._sign(
                {
                    **base,
                    "exp": access_exp,
                    "token_use": "id",
                    "name": user.name if user else user_id,
                    "preferred_username": user_id,
                }
            )
        if refresh:
            answer["refresh_token"] = self._sign(
                {
                    **base,
                    "exp": math.ceil(now + self._refresh_ttl),
                    "jti": uuid.uuid4().hex,
                    "scope": scope,
                    "token_use": "refresh",
                    "client_id": client.client_id,
                }
            )
        return answer

    # -- grants ------------------------------------------------------------------------

    def _client(self, request: Request, form: Mapping[str, str]) -> OidcClient:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization")
        if header and header.lower().startswith("basic "):
            client_id, secret = parse_basic_header(header)
        if not client_id:
            raise OAuthError("invalid_request", "client_id is missing.")
        try:
            return self.directory.check_client(client_id, secret)
        except ApiError as exc:
            raise OAuthUnauthorized("invalid_client", str(exc)) from exc

    def device_authorization(self, request: Request, form: Mapping[str, str]) -> dict[str, Any]:
        client = self._client(request, form)
        method = form.get("code_challenge_method", "plain" if "code_challenge" in form else "")
        if method not in ("", "S256"):
            raise OAuthError("invalid_request", "Only code_challenge_method S256 is supported.")
        device_code, user_code = secrets.token_urlsafe(32), secrets.token_hex(4).upper()
        with self._lock:
            now = time.time()
            expired = [k for k, g in self._device_grants.items() if g.expires < now]
            for stale in expired:
                del self._device_grants[stale]
            self._device_grants[device_code] = _DeviceGrant(
                client_id=client.client_id,
                scope=form.get("scope", "openid"),
                code_challenge=form.get("code_challenge"),
                expires=now + _DEVICE_CODE_TTL,
            )
        verification = f"{_issuer(request)}/device"
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification,
            "verification_uri_complete": f"{verification}?user_code={user_code}",
            "expires_in": _DEVICE_CODE_TTL,
            "interval": 1,
        }

    def token(self, request: Request, form: Mapping[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        client = self._client(request, form)
        issuer = _issuer(request)
        if grant_type == DEVICE_GRANT:
            return self._device_code_tokens(issuer, client, form)
        if grant_type == "client_credentials":
            return self._client_credentials_tokens(issuer, client, form)
        if grant_type == "refresh_token":
            return self._refreshed_tokens(issuer, client, form)
        raise OAuthError("unsupported_grant_type", f"Grant type {grant_type!r} is not supported.")

    def _device_code_tokens(
        self, issuer: str, client: OidcClient, form: Mapping[str, str]
    ) -> dict[str, Any]:
        """The device grant: the device code once, by its own client, with its PKCE
        verifier when it was started with a challenge."""
        with self._lock:
            grant = self._device_grants.pop(form.get("device_code", ""), None)
        if grant is None or grant.expires < time.time():
            raise OAuthError("expired_token", "Unknown or expired device_code: start again.")
        if grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The device_code belongs to another client.")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not hmac.compare_digest(computed, grant.code_challenge):
                raise OAuthError("invalid_grant", "PKCE code_verifier does not match.")
        user_id = self.directory.device_user
        return self._tokens(
            issuer=issuer, client=client, user_id=user_id, scope=grant.scope, refresh=True
        )

    def _client_credentials_tokens(
        self, issuer: str, client: OidcClient, form: Mapping[str, str]
    ) -> dict[str, Any]:
        """The client_credentials grant: a confidential client's own user, no refresh."""
        if client.secret_hash is None:
            raise OAuthError("unauthorized_client", "A public client has no client_credentials.")
        scope = form.get("scope", "openid")
        return self._tokens(
            issuer=issuer, client=client, user_id=client.user_id, scope=scope, refresh=False
        )

    def _refreshed_tokens(
        self, issuer: str, client: OidcClient, form: Mapping[str, str]
    ) -> dict[str, Any]:
        """The refresh_token grant: a valid refresh token of this client and a user that
        still exists."""
        try:
            claims = self._decode(form.get("refresh_token", ""), use="refresh")
        except TokenInvalid as exc:
            raise OAuthError("invalid_grant", str(exc)) from exc
        if claims.get("client_id") != client.client_id:
            raise OAuthError("invalid_grant", "The refresh token belongs to another client.")
        if self.directory.user(str(claims["sub"])) is None:
            raise OAuthError("invalid_grant", "The refresh token's user no longer exists.")
        return self._tokens(
            issuer=issuer,
            client=client,
            user_id=str(claims["sub"]),
            scope=str(claims.get("scope", "openid")),
            refresh=True,
        )

    # -- HTTP --------------------------------------------------------------------------

    def discovery(self, request: Request) -> dict[str, Any]:
        issuer = _issuer(request)
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "device_authorization_endpoint": f"{issuer}/device_authorization",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "grant_types_supported": [DEVICE_GRANT, "client_credentials", "refresh_token"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "offline_access", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "preferred_username"],
        }

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/oidc")

        @router.get("/.well-known/openid-configuration")
        def discovery(request: Request) -> JSONResponse:
            return JSONResponse(self.discovery(request))

        @router.get("/jwks")
        def jwks() -> JSONResponse:
            public = {**self._key.as_dict(private=False), "use": "sig", "alg": "RS256"}
            return JSONResponse({"keys": [public]})

        @router.post("/device_authorization")
        async def device_authorization(request: Request) -> JSONResponse:
            try:
                return JSONResponse(self.device_authorization(request, await _form(request)))
            except OAuthError as exc:
                return exc.response()

        @router.get("/device")
        def device_page() -> HTMLResponse:
            return HTMLResponse(
                "<p>hybrid serve: device logins are approved automatically on this local "
                "server. Go back to your program.</p>"
            )

        @router.get("/authorize")
        def authorize() -> JSONResponse:
            return OAuthError(
                "unsupported_response_type",
                "The local provider has no browser login: use the device flow or "
                "client_credentials.",
            ).response()

        @router.post("/token")
        async def token(request: Request) -> JSONResponse:
            try:
                answer = self.token(request, await _form(request))
            except OAuthError as exc:
                return exc.response()
            return JSONResponse(answer, headers={"Cache-Control": "no-store"})

        @router.get("/userinfo")
        def userinfo(request: Request) -> JSONResponse:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return OAuthUnauthorized("invalid_token", "Send the access token.").response()
            try:
                user_id = self.verify_access_token(token.strip())
            except TokenInvalid as exc:
                return OAuthUnauthorized("invalid_token", str(exc)).response()
            return JSONResponse(userinfo_claims(self.directory, user_id))

        return router
