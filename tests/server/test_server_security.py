"""Security of ``hybrid serve``: users, links, paths, tokens, listening address, passwords.

Extends ``test_server_api.py`` (another user's job is 404 on every route; traversal,
forgery and expiry of one result link) and ``test_server_auth.py`` (token expiry, hashes):
here with the real server process and the openeo client as two users, link entropy and
binding, symlinks and signed-but-hostile claims, refresh-token expiry, and a scan of
everything the server stores for the passwords.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hybrid.cli import build_parser
from tests.server.test_server_faults import settled, submit, wait_until
from tests.server_helpers import ServeProcess, ThreadServer, ndvi_graph, write_users_file
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

USERS = {"alice": "alice-Secret-1", "bob": "bob-Secret-2"}


def tiny_graph() -> dict[str, Any]:
    west, south, east, north = tiny_bbox()
    extent = {"west": west, "south": south, "east": east, "north": north}
    return ndvi_graph(extent, ["2023-05-01", "2023-06-01"])


@pytest.fixture(scope="module")
def tiny_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)
    return write_tiny_catalog(tmp_path_factory.mktemp("tiny"), [scene])


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, tiny_catalog: Path) -> Iterator[ServeProcess]:
    """The real server with two users, listening where it listens by default."""
    tmp = tmp_path_factory.mktemp("security")
    users = write_users_file(tmp / "users.toml", USERS)
    with ServeProcess(data_dir=tmp / "data", stac=tiny_catalog, users=users) as server:
        yield server


def connect(url: str, user: str) -> Any:
    import openeo

    return openeo.connect(url).authenticate_basic(user, USERS[user])


def api_code(call: Any) -> str:
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as info:
        call()
    return f"{info.value.http_status_code} {info.value.code}"


# -- users ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_users_cannot_touch_each_others_jobs(serve: ServeProcess) -> None:
    """bob, with the openeo client, can neither list, read, change, run nor delete alice's
    job, its logs or its results; alice's job is unchanged after he tried."""
    alice, bob = connect(serve.url, "alice"), connect(serve.url, "bob")
    job = alice.create_job(tiny_graph(), title="alice's")
    job.start_and_wait(print=lambda *a, **k: None, max_poll_interval=0.2)
    logs_before = len(job.logs())
    own = bob.create_job(tiny_graph(), title="bob's")

    assert [j["id"] for j in bob.list_jobs()] == [own.job_id]
    assert job.job_id not in [j["id"] for j in bob.list_jobs()]
    stolen = bob.job(job.job_id)
    attempts = {
        "describe": stolen.describe,
        "logs": stolen.logs,
        "results": lambda: stolen.get_results().get_metadata(),
        "start": stolen.start,
        "stop": stolen.stop,
        "update": lambda: bob.patch(
            f"/jobs/{job.job_id}", json={"title": "mine"}, expected_status=204
        ),
        "delete-results": lambda: bob.delete(f"/jobs/{job.job_id}/results", expected_status=204),
        "delete": stolen.delete,
    }
    answers = {name: api_code(call) for name, call in attempts.items()}
    assert set(answers.values()) == {"404 JobNotFound"}, answers
    # no oracle: a job that exists for someone else looks like one that does not exist
    unknown = bob.job("j-" + "0" * 32)
    assert api_code(unknown.describe) == "404 JobNotFound"

    meta = job.describe()
    assert (meta["status"], meta["title"]) == ("finished", "alice's")
    assert len(job.logs()) == logs_before
    (asset,) = job.get_results().get_metadata()["assets"].values()
    assert requests.get(asset["href"], timeout=30).status_code == 200


def test_deleting_a_job_kills_its_result_links(serve: ServeProcess) -> None:
    """A download link dies with its job (and its files)."""
    alice = connect(serve.url, "alice")
    job = alice.create_job(tiny_graph())
    job.start_and_wait(print=lambda *a, **k: None, max_poll_interval=0.2)
    (asset,) = job.get_results().get_metadata()["assets"].values()
    assert requests.get(asset["href"], timeout=30).status_code == 200
    job.delete()
    gone = requests.get(asset["href"], timeout=30)
    assert gone.status_code == 404 and gone.json()["code"] == "FileNotFound"


# -- listening address and stored secrets -------------------------------------------------------


def test_binds_127_0_0_1_unless_told_otherwise(
    serve: ServeProcess, tmp_path: Path, tiny_catalog: Path
) -> None:
    """Default: only the loopback address; --host 0.0.0.0 listens everywhere."""
    import psutil

    def listening(server: ServeProcess) -> set[str]:
        process = psutil.Process(server.proc.pid)  # type: ignore[union-attr]
        return {c.laddr.ip for c in process.net_connections("tcp") if c.status == "LISTEN"}

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert serve.url.startswith("http://127.0.0.1:")
    assert listening(serve) == {"127.0.0.1"}
    users = write_users_file(tmp_path / "users.toml", USERS)
    told = ["--host", "0.0.0.0"]
    with ServeProcess(
        data_dir=tmp_path / "data", stac=tiny_catalog, users=users, extra_args=told
    ) as everywhere:
        assert listening(everywhere) == {"0.0.0.0"}


def test_passwords_are_stored_nowhere_in_plain_text(serve: ServeProcess) -> None:
    """Neither the users file nor anything in the data folder (job database, its WAL,
    keys, results) nor the server's log holds a password or a Basic header."""
    for user, password in USERS.items():
        session = requests.Session()
        token = session.get(f"{serve.url}/credentials/basic", auth=(user, password)).json()
        session.headers["Authorization"] = f"Bearer basic//{token['access_token']}"
        job_id = submit(session, serve.url, tiny_graph())
        assert wait_until(session, serve.url, job_id, settled, 30) == "finished"
    data_dir = Path(serve.args[serve.args.index("--data-dir") + 1])
    users_file = Path(serve.args[serve.args.index("--users") + 1])
    stored = [users_file, *[p for p in data_dir.rglob("*") if p.is_file()]]
    assert any(p.name.startswith("jobs.sqlite") for p in stored)
    secrets = []
    for user, password in USERS.items():
        basic = base64.b64encode(f"{user}:{password}".encode())
        secrets += [password.encode(), password.encode("utf-16-le"), basic]
    for path in stored:
        content = path.read_bytes()
        leaked = [s for s in secrets if s in content]
        assert not leaked, f"{path} holds {leaked}"
    assert all(s.decode(errors="ignore") not in serve.stderr() for s in secrets)
    assert users_file.read_text(encoding="utf-8").count('password = "scrypt$') == len(USERS)


# -- result links ----------------------------------------------------------------------------------


@pytest.fixture
def short_lived(tmp_path: Path, tiny_catalog: Path) -> Iterator[ThreadServer]:
    """A server whose result links and refresh tokens live 2 s."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    settings = ServerSettings(
        data_dir=tmp_path / "data",
        workers=1,
        result_link_ttl=2.0,
        access_token_ttl=60.0,
        refresh_token_ttl=2.0,
    )
    app = create_app(settings, LocalBackend(LocalSettings(stac=str(tiny_catalog))))
    with ThreadServer(app) as server:
        yield server


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _finished_job(url: str) -> tuple[requests.Session, str, str]:
    session = requests.Session()
    token = session.get(f"{url}/credentials/basic", auth=("hybrid", "hybrid")).json()
    session.headers["Authorization"] = f"Bearer basic//{token['access_token']}"
    job_id = submit(session, url, tiny_graph())
    assert wait_until(session, url, job_id, settled, 30) == "finished"
    (asset,) = session.get(f"{url}/jobs/{job_id}/results").json()["assets"].values()
    return session, job_id, str(asset["href"])


def test_result_links_are_unguessable_and_expire(short_lived: ThreadServer) -> None:
    """256-bit HMAC signature bound to job and file; any change is refused; 410 after
    the link lifetime."""
    _, job_id, href = _finished_job(short_lived.url)
    prefix, _, name = href.rpartition("/")
    token = prefix.rpartition("/")[2]
    payload, _, signature = token.partition(".")
    assert len(_unb64(signature)) == 32  # HMAC-SHA256: 2**256 signatures to guess
    assert json.loads(_unb64(payload))["job"] == job_id
    assert requests.get(href, timeout=30).status_code == 200

    def status(token: str) -> int:
        return requests.get(f"{short_lived.url}/results/{token}/{name}", timeout=30).status_code

    for position in range(0, len(signature), 7):  # flip characters along the signature
        flipped = "A" if signature[position] != "A" else "B"
        forged = signature[:position] + flipped + signature[position + 1 :]
        assert status(f"{payload}.{forged}") == 404, position
    claims = json.loads(_unb64(payload))
    other = base64.urlsafe_b64encode(
        json.dumps({**claims, "job": "j-" + "f" * 32}).encode()
    ).rstrip(b"=")
    assert status(f"{other.decode()}.{signature}") == 404  # claims are signed
    assert status(f"{payload}") == 404 and status(f".{signature}") == 404

    time.sleep(2.2)
    expired = requests.get(href, timeout=30)
    assert (expired.status_code, expired.json()["code"]) == (410, "ResultLinkExpired")


def test_path_traversal_is_refused(short_lived: ThreadServer) -> None:
    """Encoded ../, absolute paths, backslashes, symlinks out of the job folder, and even
    validly signed claims naming another folder: never a byte outside the job's results."""
    from hybrid.server.auth import load_or_create_secret
    from hybrid.server.results import ResultLinks

    session, job_id, href = _finished_job(short_lived.url)
    prefix, _, name = href.rpartition("/")
    token = prefix.rpartition("/")[2]
    url = short_lived.url
    data_dir = Path(short_lived.app.state.settings.data_dir)
    for path in [
        f"/results/{token}/..%2F..%2Fjobs.sqlite",
        f"/results/{token}/%2E%2E%2F%2E%2E%2Fsecret.key",
        f"/results/{token}/%252E%252E%252Fsecret.key",
        f"/results/{token}/..%5C..%5Csecret.key",
        f"/results/{token}/%2Fetc%2Fpasswd",
        f"/results/{token}//etc/passwd",
        f"/results/..%2F..%2Fsecret.key/{name}",
        "/results/../../secret.key",
        "/jobs/..%2F..%2Fsecret.key/results",
        f"/jobs/{job_id}%2F..%2F..%2Fsecret.key",
    ]:
        with httpx.Client() as raw:  # httpx keeps the path as written
            answer = raw.get(url + path, headers=dict(session.headers))
        assert answer.status_code in (400, 403, 404), (path, answer.status_code)
        assert b"root:" not in answer.content and len(answer.content) < 2000, path

    secret = load_or_create_secret(data_dir / "secret.key")
    signer = ResultLinks(secret=secret, ttl=60)
    job_dir = data_dir / "jobs" / job_id
    (job_dir / "passwd.nc").symlink_to("/etc/passwd")
    (job_dir / "key.nc").symlink_to(data_dir / "secret.key")
    for filename in ("passwd.nc", "key.nc"):
        link = signer.url(base_url=url, job_id=job_id, filename=filename)
        answer = requests.get(link, timeout=30)
        assert answer.status_code == 404 and secret not in answer.content, filename
    for job, filename in [("..", "secret.key"), ("../..", "data/secret.key"), ("/", "etc/passwd")]:
        link = signer.url(base_url=url, job_id=job, filename=filename)
        answer = requests.get(link, timeout=30)
        assert answer.status_code in (400, 404), (job, filename, answer.status_code)
        assert secret not in answer.content and b"root:" not in answer.content


# -- tokens ------------------------------------------------------------------------------------


def test_refresh_tokens_expire_and_tokens_stay_with_their_server(
    short_lived: ThreadServer, tmp_path: Path
) -> None:
    """A refresh token is refused after its lifetime; a token of another server (other
    secret and signing key) is refused."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    with httpx.Client(base_url=short_lived.url) as http:
        device = http.post(
            "/oidc/device_authorization", data={"client_id": "hybrid-local", "scope": "openid"}
        ).json()
        tokens = http.post(
            "/oidc/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": "hybrid-local",
                "device_code": device["device_code"],
            },
        ).json()
        refresh = {
            "grant_type": "refresh_token",
            "client_id": "hybrid-local",
            "refresh_token": tokens["refresh_token"],
        }
        assert http.post("/oidc/token", data=refresh).status_code == 200
        time.sleep(3.1)  # JWT expiry has whole seconds, rounded up
        late = http.post("/oidc/token", data=refresh)
        assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")

    other = create_app(ServerSettings(data_dir=tmp_path / "other"), LocalBackend(LocalSettings()))
    with ThreadServer(other) as server, httpx.Client(base_url=server.url) as http:
        basic = http.get("/credentials/basic", auth=("hybrid", "hybrid")).json()["access_token"]
        oidc = http.post(
            "/oidc/token",
            data={"grant_type": "client_credentials"},
            auth=("hybrid-ci", "hybrid-ci-secret"),
        ).json()["access_token"]
        for header in (f"Bearer basic//{basic}", f"Bearer oidc/local/{oidc}"):
            assert http.get("/me", headers={"Authorization": header}).is_success
            foreign = httpx.get(f"{short_lived.url}/me", headers={"Authorization": header})
            assert (foreign.status_code, foreign.json()["code"]) == (403, "TokenInvalid")


def test_refuses_to_expose_the_default_login(capsys: pytest.CaptureFixture[str]) -> None:
    """Listening beyond loopback needs a users file: the default login stays local."""
    from hybrid.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--users" in err and err.count("\n") == 1
