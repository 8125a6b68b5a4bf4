"""Rough edges a newcomer hits on the command line: one line, the right exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

DEAD = "http://127.0.0.1:9"


def hybrid(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybrid", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize(
    "args",
    [
        ("record", "--backend", DEAD, "--name", "x"),
        ("describe", "--backend", DEAD),
        ("run", "--backend", DEAD),
    ],
)
def test_an_unreachable_backend_is_one_line_and_exit_2(args, tmp_path):
    done = hybrid(*args, "--out-root", str(tmp_path)) if args[0] == "record" else hybrid(*args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert not any(tmp_path.iterdir())


def test_usage_errors_name_the_command_once():
    done = hybrid("run", "--no-such-option")
    assert done.returncode == 2
    assert done.stderr.startswith("hybrid: error: ") and "hybrid: error: hybrid" not in done.stderr
    assert "--no-such-option" in done.stderr


def test_the_default_output_follows_the_same_overwrite_rule(sample_catalog, tmp_path, monkeypatch):
    from hybrid.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ndvi.nc").write_text("keep me")
    assert main(["run", "--stac", str(sample_catalog)]) == 2
    assert (tmp_path / "out" / "ndvi.nc").read_text() == "keep me"


def test_every_option_with_a_default_shows_it_in_the_help():
    import argparse

    from hybrid.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = []
    for name, sub in subparsers.choices.items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            default = action.default
            if not action.option_strings or default in (None, argparse.SUPPRESS):
                continue
            if isinstance(default, bool):
                continue
            text = formatter._expand_help(action) if action.help else ""
            if "default" not in formatter._get_help_string(action).lower() or not text:
                missing.append(f"{name} {action.option_strings[0]}")
    assert missing == []
    run_help = " ".join(subparsers.choices["run"].format_help().split())
    assert "(default: month)" in run_help and "(default: 1.6)" in run_help
