"""``hybrid record`` and ``hybrid run --backend URL`` against a scripted openEO server on
127.0.0.1: poll options, stored result, graph and provenance, exit codes.
"""

from __future__ import annotations

import json

import pytest

from hybrid.cli import main
from hybrid.comparison import compare
from hybrid.testing import synthetic_result
from hybrid.workflow_graph import graph_hash
from tests.cli.scripted_backend import isolated_openeo_config  # noqa: F401 (autouse)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--poll-interval", "nan"], "--poll-interval must be a positive number of seconds"),
        (["--max-poll-interval", "nan"], "--max-poll-interval must be at least --poll-interval"),
        (["--timeout", "nan"], "--timeout must be a positive number of seconds"),
        (["--poll-interval", "-1"], "--poll-interval must be a positive number of seconds"),
        (["--max-poll-interval", "-5"], "--max-poll-interval must be at least --poll-interval"),
        (["--poll-interval", "10", "--max-poll-interval", "5"], "at least --poll-interval (10 s)"),
        (["--max-poll-interval", "inf"], "--max-poll-interval must be at least"),
        (["--timeout", "0"], "--timeout must be a positive number of seconds"),
    ],
)
def test_record_refuses_bad_waits_by_their_names_before_connecting(
    options, expected, tmp_path, capsys
):
    """``--timeout nan`` waited for ever and a NaN poll interval slept NaN seconds (every
    comparison with NaN is false); ``--max-poll-interval -5`` was raised to the poll
    interval silently; the errors named the settings' Python fields, not the options."""
    argv = ["record", "--backend", "http://127.0.0.1:9", "--name", "x"]
    assert main([*argv, "--out-root", str(tmp_path / "rec"), *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "127.0.0.1:9" not in err, err
    assert not (tmp_path / "rec").exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--poll-interval", "nan"], "--poll-interval must be a positive number of seconds"),
        (["--poll-interval", "10", "--max-poll-interval", "5"], "at least --poll-interval (10 s)"),
    ],
)
def test_run_on_a_remote_backend_takes_the_poll_options_of_record(
    options, expected, tmp_path, capsys
):
    """``hybrid run --backend URL`` polls its job as ``hybrid record`` does, with the same
    options and the same one-line refusals before connecting."""
    argv = ["run", "--backend", "http://127.0.0.1:9", "--out", str(tmp_path / "r.nc")]
    assert main([*argv, *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "127.0.0.1:9" not in err, err
    assert not (tmp_path / "r.nc").exists()


def test_record_cli_stores_result_graph_and_provenance(server, alice, tmp_path, capsys):
    url, script = server
    args = [
        "record",
        "--backend",
        url,
        "--name",
        "seed",
        "--out-root",
        str(tmp_path / "recordings"),
    ]
    code = main([*args, "--poll-interval", "0.01", "--start", "2023-05-01", "--end", "2023-06-01"])
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "recordings" / "seed"
    assert sorted(p.name for p in folder.iterdir()) == [
        "graph.json",
        "provenance.json",
        "result.nc",
    ]
    graph = json.loads((folder / "graph.json").read_text())
    assert script.jobs["j-1"]["process"]["process_graph"] == graph
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["graph_sha256"] == graph_hash(graph)
    assert provenance["workflow"]["start"] == "2023-05-01"
    assert compare(folder / "result.nc", synthetic_result()).equivalent
    # a second recording under the same name is refused (exit 2), --force replaces it
    assert main([*args, "--poll-interval", "0.01"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_record_cli_failed_job_exits_non_zero(server, alice, tmp_path, capsys):
    url, script = server
    script.statuses = ["error"]
    script.logs = [{"id": "1", "level": "error", "message": "boom"}]
    args = ["record", "--backend", url, "--name", "x", "--out-root", str(tmp_path)]
    assert main([*args, "--poll-interval", "0.01"]) == 1
    err = capsys.readouterr().err
    assert "[error] boom" in err and err.strip().splitlines()[-1].startswith("hybrid: error:")
    assert not (tmp_path / "x" / "result.nc").exists()


@pytest.mark.parametrize("command", ["run", "record"])
def test_every_command_exits_1_on_a_failed_job_and_2_on_rejected_credentials(
    command, server, alice, tmp_path, capsys, monkeypatch
):
    """The README's exit-code table, for both commands that run remotely."""
    url, script = server
    script.statuses = ["error"]
    script.logs = [{"id": "1", "level": "error", "message": "boom"}]
    out = ["--out", str(tmp_path / "r.nc")] if command == "run" else ["--name", "x"]
    args = [command, "--backend", url, *out]
    if command == "record":
        args += ["--out-root", str(tmp_path / "rec"), "--poll-interval", "0.01"]
    assert main(args) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hybrid: error:")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "wrong")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rejected the basic credentials" in err
    assert not (tmp_path / "r.nc").exists() and not (tmp_path / "rec" / "x").exists()
