"""Users, hashed passwords and bearer tokens of the local openEO emulator.

Users and OIDC clients come from a TOML or JSON file (``hybrid serve --users FILE``)::

    [users.alice]
    password = "scrypt$16384$8$1$<salt>$<hash>"   # from: hybrid serve --hash-password
    name = "Alice"                                 # optional

    [clients.ci]                                   # OIDC client_credentials
    secret = "scrypt$16384$8$1$<salt>$<hash>"
    user = "alice"                                 # whose jobs it sees (default: "ci")

    [oidc]
    device_user = "alice"                          # who the auto-approved device flow logs in

Without a file, one local user exists: ``hybrid`` with password ``hybrid``, the OIDC
device flow logs in as ``hybrid``, and the client ``hybrid-ci`` with secret
``hybrid-ci-secret`` does client_credentials as ``hybrid``. The server listens on
127.0.0.1 by default; pass a users file before listening anywhere else.

Bearer tokens follow the openEO API: ``basic//TOKEN`` (HMAC-signed, from
``GET /credentials/basic``) and ``oidc/PROVIDER/TOKEN`` (a JWT of the built-in provider).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from hybrid.errors import UsageError
from hybrid.server.errors import (
    AuthenticationRequired,
    AuthenticationSchemeInvalid,
    CredentialsInvalid,
    TokenInvalid,
)

DEFAULT_USER = "hybrid"
DEFAULT_PASSWORD = "hybrid"
#: the public OIDC client listed in ``/credentials/oidc`` (device flow, refresh tokens)
PUBLIC_CLIENT_ID = "hybrid-local"
DEFAULT_CI_CLIENT_ID = "hybrid-ci"
DEFAULT_CI_CLIENT_SECRET = "hybrid-ci-secret"

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
#: the openEO API's pattern of a user id
_USER_ID = re.compile(r"[\w\-.~]+")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$SALT$HASH`` of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a ``scrypt$...`` or ``pbkdf2_sha256$ITER$SALT$HASH`` hash."""
    parts = encoded.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(v) for v in parts[1:4])
            salt, expected = _unb64(parts[4]), _unb64(parts[5])
            digest = hashlib.scrypt(
                password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected)
            )
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, expected = _unb64(parts[2]), _unb64(parts[3])
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(parts[1]))
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class User:
    """An authenticated account: jobs, logs and results belong to ``user_id``."""

    user_id: str
    name: str


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    #: hashed secret; None for the public client
    secret_hash: str | None
    #: the user a client_credentials token stands for
    user_id: str


@dataclass(frozen=True)
class Directory:
    """The users and OIDC clients the emulator knows."""

    users: Mapping[str, tuple[User, str]]
    clients: Mapping[str, OidcClient]
    #: the user the auto-approved OIDC device flow logs in
    device_user: str

    @classmethod
    def default(cls) -> Directory:
        user = User(DEFAULT_USER, "Local user")
        return cls(
            users={DEFAULT_USER: (user, hash_password(DEFAULT_PASSWORD))},
            clients={
                PUBLIC_CLIENT_ID: OidcClient(PUBLIC_CLIENT_ID, None, DEFAULT_USER),
                DEFAULT_CI_CLIENT_ID: OidcClient(
                    DEFAULT_CI_CLIENT_ID, hash_password(DEFAULT_CI_CLIENT_SECRET), DEFAULT_USER
                ),
            },
            device_user=DEFAULT_USER,
        )

    @classmethod
    def load(cls, path: Path | None) -> Directory:
        """Read a users file (TOML, or JSON when it ends in ``.json``); None = the default."""
        if path is None:
            return cls.default()
        try:
            text = path.read_text(encoding="utf-8")
            raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise UsageError(f"Cannot read the users file {path}: {exc}.") from exc
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, source: str = "users file") -> Directory:
        users: dict[str, tuple[User, str]] = {}
        for user_id, entry in dict(raw.get("users", {})).items():
            if not _USER_ID.fullmatch(user_id):
                raise UsageError(
                    f"{source}: user name {user_id!r} may only hold letters, digits, '_-.~'."
                )
            password = entry.get("password") if isinstance(entry, Mapping) else None
            if not isinstance(password, str) or "$" not in password:
                raise UsageError(
                    f"{source}: user {user_id!r} needs a hashed 'password' "
                    "(make one with: hybrid serve --hash-password)."
                )
            users[user_id] = (User(user_id, str(entry.get("name", user_id))), password)
        if not users:
            raise UsageError(f"{source}: no [users.NAME] entry; add at least one user.")
        clients: dict[str, OidcClient] = {}
        for client_id, entry in dict(raw.get("clients", {})).items():
            secret = entry.get("secret") if isinstance(entry, Mapping) else None
            if not isinstance(secret, str) or "$" not in secret:
                raise UsageError(
                    f"{source}: client {client_id!r} needs a hashed 'secret' "
                    "(make one with: hybrid serve --hash-password)."
                )
            clients[client_id] = OidcClient(client_id, secret, str(entry.get("user", client_id)))
        device_user = str(dict(raw.get("oidc", {})).get("device_user", next(iter(users))))
        if device_user not in users:
            raise UsageError(f"{source}: oidc.device_user {device_user!r} is not a user.")
        clients.setdefault(PUBLIC_CLIENT_ID, OidcClient(PUBLIC_CLIENT_ID, None, device_user))
        return cls(users=users, clients=clients, device_user=device_user)

    def check_password(self, username: str, password: str) -> User:
        entry = self.users.get(username)
        if entry is None or not verify_password(password, entry[1]):
            raise CredentialsInvalid("Wrong user name or password.")
        return entry[0]

    def check_client(self, client_id: str, secret: str | None) -> OidcClient:
        """The client, if ``secret`` is right (public clients need none)."""
        client = self.clients.get(client_id)
        if client is None:
            raise CredentialsInvalid(f"Unknown OIDC client {client_id!r}.")
        if client.secret_hash is not None and not (
            secret is not None and verify_password(secret, client.secret_hash)
        ):
            raise CredentialsInvalid(f"Wrong secret for OIDC client {client_id!r}.")
        return client

    def user(self, user_id: str) -> User | None:
        entry = self.users.get(user_id)
        if entry is not None:
            return entry[0]
        if any(c.user_id == user_id and c.secret_hash for c in self.clients.values()):
            return User(user_id, user_id)
        return None


def load_or_create_secret(path: Path) -> bytes:
    """32 random bytes kept in ``path`` (mode 0600) so tokens and links survive restarts."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret


class TokenSigner:
    """Compact HMAC-SHA256 signed tokens: ``PAYLOAD.SIGNATURE`` with an ``exp`` claim."""

    def __init__(self, secret: bytes, *, purpose: str) -> None:
        self._key = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()

    def issue(self, claims: Mapping[str, Any], *, ttl: float) -> str:
        payload = _b64(json.dumps({**claims, "exp": time.time() + ttl}).encode())
        signature = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        return f"{payload}.{signature}"

    def verify(self, token: str, *, check_expiry: bool = True) -> dict[str, Any] | None:
        """The claims, or None when the token is forged, malformed or (checked) expired."""
        payload, _, signature = token.partition(".")
        expected = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(claims, dict):
            return None
        if check_expiry and float(claims.get("exp", 0)) < time.time():
            return None
        return claims


def parse_basic_header(authorization: str | None) -> tuple[str, str]:
    """User name and password of an ``Authorization: Basic ...`` header."""
    if not authorization:
        raise AuthenticationRequired("Send HTTP Basic credentials to get a token.")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise AuthenticationSchemeInvalid(f"Expected HTTP Basic authentication, got {scheme!r}.")
    try:
        username, sep, password = base64.b64decode(value.strip()).decode().partition(":")
    except ValueError as exc:
        raise CredentialsInvalid("Malformed HTTP Basic credentials.") from exc
    if not sep:
        raise CredentialsInvalid("Malformed HTTP Basic credentials: no ':' in them.")
    return username, password


def is_oidc_bearer(authorization: str | None) -> bool:
    """Whether the header carries an OIDC (not a basic-auth) bearer token."""
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and value.strip().startswith("oidc/")


class Authenticator:
    """Turns ``Authorization`` headers into users."""

    def __init__(
        self,
        *,
        directory: Directory,
        secret: bytes,
        oidc_provider_id: str,
        oidc_verify: Callable[[str], str],
        access_token_ttl: float,
    ) -> None:
        self.directory = directory
        self._basic = TokenSigner(secret, purpose="basic-token")
        self._oidc_provider_id = oidc_provider_id
        self._oidc_verify = oidc_verify
        self._ttl = access_token_ttl

    def basic_token(self, authorization: str | None) -> str:
        """An access token for the HTTP Basic credentials in ``authorization``."""
        user = self.directory.check_password(*parse_basic_header(authorization))
        return self._basic.issue({"sub": user.user_id}, ttl=self._ttl)

    def user(self, authorization: str | None) -> User:
        """The user of a ``Bearer basic//TOKEN`` or ``Bearer oidc/PROVIDER/TOKEN`` header."""
        if not authorization:
            raise AuthenticationRequired(
                "This endpoint needs authentication: log in with authenticate_oidc() "
                "or authenticate_basic()."
            )
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationSchemeInvalid(
                f"Authentication scheme {scheme!r} is not supported: use 'Bearer'."
            )
        method, _, rest = value.strip().partition("/")
        provider, _, token = rest.partition("/")
        if method == "basic" and provider == "":
            claims = self._basic.verify(token)
            user_id = str(claims["sub"]) if claims else None
        elif method == "oidc" and provider == self._oidc_provider_id:
            try:
                user_id = self._oidc_verify(token)
            except TokenInvalid:
                user_id = None
        elif method == "oidc":
            raise TokenInvalid(
                f"Unknown OIDC provider {provider!r}: this backend has {self._oidc_provider_id!r}."
            )
        else:
            raise TokenInvalid(
                "Malformed bearer token: expected 'basic//TOKEN' or 'oidc/ID/TOKEN'."
            )
        user = self.directory.user(user_id) if user_id else None
        if user is None:
            raise TokenInvalid(
                "Authorization token has expired or is invalid. Please authenticate again."
            )
        return user


def current_user(request: Request) -> User:
    """FastAPI dependency: the user of the request (``app.state.auth`` checks the header)."""
    authenticator: Authenticator = request.app.state.auth
    return authenticator.user(request.headers.get("authorization"))


#: a route parameter annotated with this receives the authenticated :class:`User`
CurrentUser = Annotated[User, Depends(current_user)]
