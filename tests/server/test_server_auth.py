"""Authentication of the emulator: hashed passwords, basic tokens, the local OIDC provider."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hybrid.errors import UsageError
from hybrid.server.auth import Directory, TokenSigner, hash_password, verify_password
from tests.server_helpers import ThreadServer, write_users_file

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_password_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and first.startswith("scrypt$")
    assert "s3cret" not in first
    assert verify_password("s3cret", first) and verify_password("s3cret", second)
    assert not verify_password("S3cret", first)
    assert not verify_password("s3cret", "plain-text")


def test_pbkdf2_hashes_verify() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"pw", salt, 1000)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    assert verify_password("pw", f"pbkdf2_sha256$1000${b64(salt)}${b64(digest)}")
    assert not verify_password("px", f"pbkdf2_sha256$1000${b64(salt)}${b64(digest)}")


def test_users_file_toml_and_json(tmp_path: Path) -> None:
    toml = write_users_file(tmp_path / "u.toml", {"alice": "a"}, {"ci": ("c", "alice")})
    directory = Directory.load(toml)
    assert directory.check_password("alice", "a").user_id == "alice"
    assert directory.check_client("ci", "c").user_id == "alice"
    assert directory.device_user == "alice"
    raw = {"users": {"bob": {"password": hash_password("b"), "name": "Bob"}}}
    (tmp_path / "u.json").write_text(json.dumps(raw))
    assert Directory.load(tmp_path / "u.json").check_password("bob", "b").name == "Bob"


@pytest.mark.parametrize(
    "text",
    [
        '[users.alice]\npassword = "plain"\n',  # not hashed
        "[clients.x]\n",  # no users
        "not toml [",
        '[users."a b"]\npassword = "scrypt$1$1$1$x$y"\n',  # not a valid user id
    ],
)
def test_bad_users_files_are_usage_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "users.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=r"users\.toml"):
        Directory.load(path)


def test_the_oidc_signing_key_is_written_once_for_its_owner_only(tmp_path: Path) -> None:
    from hybrid.atomic import leftovers
    from hybrid.server.oidc import load_or_create_key

    path = tmp_path / "keys" / "oidc_key.json"
    key = load_or_create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600  # a private key: no one else reads it
    assert load_or_create_key(path).kid == key.kid  # kept, not generated again
    assert leftovers(path) == [] and [p.name for p in path.parent.iterdir()] == [path.name]


def test_signed_tokens_expire_and_refuse_forgery() -> None:
    signer = TokenSigner(b"k" * 32, purpose="test")
    token = signer.issue({"sub": "alice"}, ttl=60)
    assert signer.verify(token)["sub"] == "alice"
    _, _, signature = token.partition(".")
    forged = base64.urlsafe_b64encode(b'{"sub": "root", "exp": 1e12}').rstrip(b"=").decode()
    assert signer.verify(f"{forged}.{signature}") is None
    assert TokenSigner(b"x" * 32, purpose="test").verify(token) is None
    assert TokenSigner(b"k" * 32, purpose="other").verify(token) is None
    assert signer.verify(signer.issue({"sub": "a"}, ttl=-1)) is None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    tmp = tmp_path_factory.mktemp("auth")
    users = write_users_file(
        tmp / "users.toml", {"alice": "wonder", "bob": "builder"}, {"robot": ("beep", "bob")}
    )
    settings = ServerSettings(data_dir=tmp / "data", users_file=users)
    with ThreadServer(create_app(settings, LocalBackend(LocalSettings()))) as running:
        yield running


def _code(response: httpx.Response) -> str:
    return str(response.json()["code"])


def test_basic_flow_and_errors(server: ThreadServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.get("/credentials/basic", auth=("alice", "wonder")).json()["access_token"]
        me = http.get("/me", headers={"Authorization": f"Bearer basic//{token}"})
        assert me.status_code == 200
        # Copernicus leaves out what has no value (views.py ``me``: dict_no_none); a
        # basic-auth user is only an id there, its name the id (User.get_name fallback)
        assert me.json() == {"user_id": "alice", "name": "alice"}

        wrong = http.get("/credentials/basic", auth=("alice", "nope"))
        assert (wrong.status_code, _code(wrong)) == (403, "CredentialsInvalid")
        missing = http.get("/credentials/basic")
        assert (missing.status_code, _code(missing)) == (401, "AuthenticationRequired")
        assert (http.get("/me").status_code, _code(http.get("/me"))) == (
            401,
            "AuthenticationRequired",
        )
        for header, code in [
            ("Bearer basic//garbage", "TokenInvalid"),
            (f"Bearer oidc/other/{token}", "TokenInvalid"),
            (f"Bearer oidc/local/{token}", "TokenInvalid"),
            (f"Basic {token}", "AuthenticationSchemeInvalid"),
            (f"Bearer {token}", "TokenInvalid"),
        ]:
            answer = http.get("/me", headers={"Authorization": header})
            assert (answer.status_code, _code(answer)) == (403, code), header


def test_tokens_expire(tmp_path: Path) -> None:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    settings = ServerSettings(data_dir=tmp_path, access_token_ttl=1.0)
    app = create_app(settings, LocalBackend(LocalSettings()))
    with ThreadServer(app) as server, httpx.Client(base_url=server.url) as http:
        basic = http.get("/credentials/basic", auth=("hybrid", "hybrid")).json()["access_token"]
        oidc = http.post(
            "/oidc/token",
            data={"grant_type": "client_credentials"},
            auth=("hybrid-ci", "hybrid-ci-secret"),
        ).json()["access_token"]
        headers = [
            {"Authorization": f"Bearer basic//{basic}"},
            {"Authorization": f"Bearer oidc/local/{oidc}"},
        ]
        assert [http.get("/me", headers=h).status_code for h in headers] == [200, 200]
        time.sleep(2.1)  # JWT expiry has whole seconds, rounded up
        for header in headers:
            expired = http.get("/me", headers=header)
            assert (expired.status_code, _code(expired)) == (403, "TokenInvalid")


def _discovery(http: httpx.Client) -> dict:
    providers = http.get("/credentials/oidc").json()["providers"]
    assert [p["id"] for p in providers] == ["local"]
    issuer = providers[0]["issuer"]
    assert issuer == f"{http.base_url}".rstrip("/") + "/oidc"
    config = http.get(f"{issuer}/.well-known/openid-configuration").json()
    assert config["issuer"] == issuer
    return {"provider": providers[0], **config}


def test_device_flow_with_pkce_refresh_and_userinfo(server: ThreadServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        config = _discovery(http)
        client_id = config["provider"]["default_clients"][0]["id"]
        verifier = "v" * 50
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        device = http.post(
            config["device_authorization_endpoint"],
            data={
                "client_id": client_id,
                "scope": "openid offline_access",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        ).json()
        assert device["verification_uri"].startswith(config["issuer"])
        poll = {"grant_type": DEVICE_GRANT, "client_id": client_id}
        bad = http.post(
            config["token_endpoint"],
            data={**poll, "device_code": device["device_code"], "code_verifier": "w" * 50},
        )
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")

        device = http.post(
            config["device_authorization_endpoint"],
            data={
                "client_id": client_id,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "scope": "openid",
            },
        ).json()
        tokens = http.post(
            config["token_endpoint"],
            data={**poll, "device_code": device["device_code"], "code_verifier": verifier},
        ).json()
        assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
        reused = http.post(
            config["token_endpoint"],
            data={**poll, "device_code": device["device_code"], "code_verifier": verifier},
        )
        assert reused.status_code == 400  # a device code works once

        bearer = {"Authorization": f"Bearer oidc/local/{tokens['access_token']}"}
        me = http.get("/me", headers=bearer).json()
        info = http.get(
            config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        ).json()
        assert info["sub"] == "alice"  # the device user
        # Copernicus keeps the provider's userinfo in ``info`` (openeo_driver auth.py L263)
        assert me == {"user_id": "alice", "name": info["name"], "info": {"oidc_userinfo": info}}

        refreshed = http.post(
            config["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "client_id": client_id,
                "refresh_token": tokens["refresh_token"],
            },
        ).json()
        bearer = {"Authorization": f"Bearer oidc/local/{refreshed['access_token']}"}
        assert http.get("/me", headers=bearer).json()["user_id"] == "alice"
        # a refresh token is not an access token
        wrong_use = {"Authorization": f"Bearer oidc/local/{tokens['refresh_token']}"}
        assert http.get("/me", headers=wrong_use).status_code == 403


def test_tokens_are_rs256_jwts_signed_by_the_published_key(server: ThreadServer) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    with httpx.Client(base_url=server.url) as http:
        config = _discovery(http)
        tokens = http.post(
            config["token_endpoint"],
            data={
                "grant_type": "client_credentials",
                "client_id": "robot",
                "client_secret": "beep",
                "scope": "openid",
            },
        ).json()
        keys = KeySet.import_key_set(http.get(config["jwks_uri"]).json())
        decoded = jwt.decode(tokens["access_token"], keys, algorithms=["RS256"])
        assert decoded.header["alg"] == "RS256"
        assert decoded.claims["sub"] == "bob" and decoded.claims["iss"] == config["issuer"]
        assert decoded.claims["exp"] > time.time()


def test_client_credentials_errors(server: ThreadServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        endpoint = _discovery(http)["token_endpoint"]
        ok = http.post(endpoint, data={"grant_type": "client_credentials"}, auth=("robot", "beep"))
        assert ok.status_code == 200  # client_secret_basic
        for data, status, error in [
            ({"client_id": "robot", "client_secret": "boop"}, 401, "invalid_client"),
            ({"client_id": "nobody", "client_secret": "beep"}, 401, "invalid_client"),
            ({"client_id": "hybrid-local"}, 400, "unauthorized_client"),
        ]:
            answer = http.post(endpoint, data={"grant_type": "client_credentials", **data})
            assert (answer.status_code, answer.json()["error"]) == (status, error)
        odd = http.post(
            endpoint, data={"grant_type": "password", "client_id": "robot", "client_secret": "beep"}
        )
        assert odd.json()["error"] == "unsupported_grant_type"
