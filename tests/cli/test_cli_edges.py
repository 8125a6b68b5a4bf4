"""Rough edges a newcomer hits on the command line: one line, the right exit code."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from hybrid.cli import GC_YOUNG_THRESHOLD

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
    done = hybrid(*args, cwd=tmp_path)  # record: the default --out-root data/recordings
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []  # no file left behind
    if args[0] == "record":  # nor the recordings folder it would have made
        assert list(tmp_path.iterdir()) == []


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


def test_a_failed_run_leaves_no_folder_it_made_and_keeps_the_others(tmp_path, monkeypatch):
    """The run fails after making its output folders (the backend is unreachable): the
    folders it made go again, the ones that were there stay as they were."""
    from hybrid.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("keep me")
    for out in ([], ["--out", "kept/new/deeper/x.nc"], ["--format", "GTiff", "--out", "tiffs"]):
        assert main(["run", "--backend", DEAD, "--quiet", *out]) == 2
        assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
            "kept",
            "kept/mine.txt",
        ], out


def test_every_option_with_a_default_shows_it_in_the_help():
    import argparse

    from hybrid.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing, repeated = [], []
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
            shown = f"{default:g}" if isinstance(default, int | float) else str(default)
            own = (action.help or "").replace("%(default)s", "")
            if "(default:" in text and re.search(rf"\({re.escape(shown)}[ ;)]", own):
                repeated.append(text)  # "(8080) (default: 8080)": the default twice
    assert missing == [] and repeated == []
    run_help = " ".join(subparsers.choices["run"].format_help().split())
    assert "(default: month)" in run_help and "(default: 1.6)" in run_help


def _long_options(command: str) -> set[str]:
    import argparse

    from hybrid.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sub = subparsers.choices[command]
    return {o for a in sub._actions for o in a.option_strings if o.startswith("--")}


#: workflow options that only change the computation after the load
PROCESSING_ONLY = {
    "--kernel-std", "--threshold", "--period", "--reducer", "--intervals", "--mask-polygon",
    "--format",
}  # fmt: skip


def test_each_command_lists_only_the_options_that_apply_to_it(capsys):
    from hybrid.cli import main

    scenes = _long_options("scenes")
    # what selects the scenes stays (the kernel size grows the search envelope) ...
    assert {"--aoi", "--start", "--end", "--max-cloud-cover", "--kernel-size"} <= scenes
    assert {"--max-aoi-cloud", "--stac", "--json", "--plots"} <= scenes
    # ... what only shapes the NDVI does not, in the usage, the help and the parser
    assert not scenes & PROCESSING_ONLY
    with pytest.raises(SystemExit):
        main(["scenes", "--help"])
    text = capsys.readouterr().out
    assert not [o for o in PROCESSING_ONLY if o in text] and "--max-cloud-cover" in text
    assert main(["scenes", "--period", "week"]) == 2
    assert "unrecognized arguments: --period week" in capsys.readouterr().err
    # record never measures the AOI's cloud: no --max-aoi-cloud to be silently ignored
    assert "--max-aoi-cloud" not in _long_options("record")
    assert _long_options("record") >= PROCESSING_ONLY
    for command in ("run", "graph"):
        assert PROCESSING_ONLY | {"--max-aoi-cloud"} <= _long_options(command)


def test_the_python_api_refuses_what_the_command_does_not_take():
    import hybrid
    from hybrid.errors import UsageError

    with pytest.raises(UsageError, match="unknown option 'period' for scenes"):
        hybrid.scenes(period="week")


def test_the_command_exits_with_mains_code_and_its_objects_frozen():
    """``hybrid`` (hybrid.cli.console) returns main's exit code, with the command's
    collector threshold and, at the end, what the run left frozen so Python's shutdown
    does not walk it all again."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), gc.get_threshold()[0],"
        " file=sys.stderr))\n"
        "sys.argv = ['hybrid', 'run', '--workers', '0']\n"
        "from hybrid.cli import console\n"
        "console()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "--workers 0 must be at least 1" in done.stderr
    frozen = re.search(r"frozen (\d+) (\d+)", done.stderr)
    assert frozen and int(frozen.group(1)) > 10_000, done.stderr
    assert int(frozen.group(2)) == GC_YOUNG_THRESHOLD


@pytest.mark.parametrize("command", ["run", "scenes", "compare"])
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_plots_folder_that_cannot_be_is_refused_before_anything_is_written(
    command, where, sample_catalog, tmp_path, capsys
):
    """``--plots`` naming a file (or a folder under one) is one line naming ``--plots``
    before the work: the result, the report were written and the command then failed."""
    from hybrid.cli import main

    taken = tmp_path / "taken.png"
    taken.write_text("keep me")
    plots = taken if where == "a file" else taken / "figures"
    result = tmp_path / "ndvi.nc"
    if command == "compare":  # a result to compare (made here, not by the command)
        window = ["--start", "2023-06-01", "--end", "2023-06-15"]
        assert main(["run", "--stac", str(sample_catalog), *window, "--out", str(result)]) == 0
        capsys.readouterr()
    argv = {
        "run": ["run", "--stac", str(sample_catalog), "--out", str(result)],
        "scenes": ["scenes", "--stac", str(sample_catalog)],
        "compare": ["compare", str(result), str(result), "--report", str(tmp_path / "r.json")],
    }[command]
    quiet = ["--quiet"] if command == "run" else []
    before = sorted(tmp_path.iterdir())
    assert main([*argv, "--plots", str(plots), *quiet]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"hybrid: error: --plots {plots} "), err
    assert sorted(tmp_path.iterdir()) == before
    assert taken.read_text() == "keep me"


def test_compare_names_what_it_reads_for_a_file_it_does_not(tmp_path, capsys):
    """A file of no result format was called "no aggregate_spatial result", as if only
    time series were compared."""
    from hybrid.cli import main

    text = tmp_path / "notes.txt"
    text.write_text("not a result")
    assert main(["compare", str(text), str(text)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{text} is no result hybrid reads" in err, err
    assert all(suffix in err for suffix in (".nc", ".tif", ".json", ".csv", ".parquet")), err


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("999.1.1.1", "--host 999.1.1.1 is not an IP address"),
        ("fe80::1::2", "--host fe80::1::2 is not an IP address"),
        ("no-such-host.invalid", "Cannot listen on no-such-host.invalid: "),
    ],
)
def test_serve_refuses_a_host_that_is_no_address(host, expected, tmp_path, capsys):
    """999.1.1.1 was refused for exposing the default login, as if it were an address."""
    from hybrid.cli import main

    users = tmp_path / "users.json"
    users.write_text("{}")  # past the login check: the bind itself speaks for names
    argv = ["serve", "--host", host, "--port", "0", "--data-dir", str(tmp_path / "d")]
    assert main([*argv, "--users", str(users)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "--port" not in err, err


def test_cache_is_not_written_into_a_folder_of_other_files(tmp_path, capsys):
    """``hybrid cache --out`` a result folder mixed the scenes' windows into it."""
    from hybrid.cli import main

    results = tmp_path / "results"
    results.mkdir()
    (results / "openEO.nc").write_text("keep me")
    window = ["--start", "2023-06-01", "--end", "2023-06-15", "--quiet"]
    assert main(["cache", "--out", str(results), *window]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {results} holds files of its own (openEO.nc)" in err
    assert [p.name for p in results.iterdir()] == ["openEO.nc"]


def test_compare_help_and_readme_name_what_it_compares_and_its_options(capsys):
    """``hybrid compare --help`` names every kind of result the README's command table
    says it compares, and that row names every option of the command."""
    import re
    from pathlib import Path

    from hybrid.cli import main

    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert [
        k for k in (".covjson", ".geojson", "vectorcube.*", "result.json") if k not in text
    ] == []
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith("| `hybrid compare A B`")]
    assert sorted(_long_options("compare") - {"--help"} - set(re.findall(r"--[a-z-]+", row))) == []
