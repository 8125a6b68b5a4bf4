"""``hybrid serve`` command-line behaviour that needs no running server."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from hybrid.cli import main
from hybrid.server.auth import verify_password


def test_hash_password_prints_a_hash_for_the_users_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert main(["serve", "--hash-password"]) == 0
    hashed = capsys.readouterr().out.strip()
    assert hashed.startswith("scrypt$") and verify_password("correct horse", hashed)


def test_busy_port_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code = main(["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"Cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers must be at least 1"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--users", "/nonexistent/users.toml"], "Users file /nonexistent/users.toml not found"),
        (["--dask-workers", "0"], "--dask-workers must be at least 1"),
        (["--memory-limit", "2GiB"], "applies to the workers of --dask-workers"),
        (["--dask-workers", "1", "--memory-limit", "x"], "like 2GiB"),
        (["--scheduler", "nonsense"], "--scheduler nonsense is neither"),
        (["--scheduler", "http://127.0.0.1:8786"], "unknown protocol 'http'"),
        (["--scheduler", "tcp://127.0.0.1:9", "--dask-workers", "2"], "not both"),
        # checked at start: it answered every request with a 400 before
        (["--stac", "/nonexistent/catalog.json"], "STAC catalog not found"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_udf_timeout_that_is_no_number_of_seconds_is_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was taken, and every request running a UDF then answered 500 (OverflowError or
    ValueError converting it to the worker's CPU limit). Refused before listening: the
    busy port is never reached (before the fix it was, and the start failed there)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        code = main(
            ["serve", "--port", port, "--udf-timeout", value, "--data-dir", str(tmp_path / "d")]
        )
    assert code == 2
    assert f"--udf-timeout must be a positive number of seconds, not {value}" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("value", ["-1", "20"])
def test_a_udf_nice_outside_0_to_19_is_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--udf-nice`` takes the nice values a worker can be given without privileges
    (a negative one would fail every UDF); refused before listening, as --udf-timeout."""
    data = tmp_path / "d"
    assert main(["serve", "--port", "0", "--udf-nice", value, "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"--udf-nice must be between 0 and 19, not {value}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not data.exists()


def test_a_data_dir_that_is_a_file_or_a_bad_users_file_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file as --data-dir was "File exists: PATH"; an unreadable users file left an
    empty data folder behind."""
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    assert main(["serve", "--port", "0", "--data-dir", str(taken)]) == 2
    assert f"--data-dir {taken} is a file; give a folder" in capsys.readouterr().err
    users = tmp_path / "users.json"
    users.write_text("{not json")
    data = tmp_path / "d"
    assert main(["serve", "--port", "0", "--users", str(users), "--data-dir", str(data)]) == 2
    assert "Cannot read the users file" in capsys.readouterr().err
    assert not data.exists() and taken.read_text() == "keep me"
