"""Smoke test of the benchmark at its smallest size: every code path, and the three
pipelines agree numerically. No timing assertions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from benchmarks.measure import ChildFailed, measure
from benchmarks.run import markdown, run_benchmark
from benchmarks.scenes import MARGIN, SceneSpec, ensure_scene, parse_spec

TINY = SceneSpec(n_dates=8, size=64)


@pytest.fixture(scope="module")
def tiny_scene(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("scenes")
    return root, ensure_scene(root, TINY)


def test_scene_is_a_catalog_of_cogs(tiny_scene):
    import pystac

    _root, catalog = tiny_scene
    items = list(pystac.Collection.from_file(str(catalog)).get_items(recursive=True))
    assert len(items) == TINY.n_dates
    item = items[0]
    with rasterio.open(item.assets["red"].get_absolute_href()) as red:
        assert red.width == TINY.size + 2 * MARGIN
        assert red.crs.to_epsg() == 32632
    with rasterio.open(item.assets["scl"].get_absolute_href()) as scl:
        assert scl.width == (TINY.size + 2 * MARGIN) // 2
        classes = set(np.unique(scl.read(1)).tolist())
    assert {4, 8}.issubset(classes), classes  # vegetation and clouds on the first date


def test_scene_is_cached(tiny_scene):
    root, catalog = tiny_scene
    before = catalog.stat().st_mtime_ns
    assert ensure_scene(root, TINY) == catalog
    assert catalog.stat().st_mtime_ns == before


@pytest.fixture(scope="module")
def measured(tiny_scene):
    """One run of every pipeline and of the ``--cluster`` entry on the tiny scene (the
    cluster's threaded reference is the ``local`` row), asserted by the tests below."""
    root, _catalog = tiny_scene
    return run_benchmark([TINY], root=root, cluster=True, log=lambda _m: None)


@pytest.mark.slow
def test_the_pipelines_agree_and_the_table_is_printed(measured):
    result = measured
    rows = {r["pipeline"]: r for r in result["rows"] if "external" not in r}
    assert set(rows) == {"local", "stock", "fused", "decode"}
    for row in rows.values():
        assert row["seconds"] > 0 and row["peak_rss_mib"] > 50
        # the kernel accounts system time in ticks: a pipeline of this tiny scene can
        # spend less than one (seen once: 0.0); every row has it, some row more than 0
        assert 0 <= row["system_seconds"] <= row["cpu_seconds"] and row["minor_faults"] > 0
        assert row["mpx_dates_per_s"] == round(TINY.megapixel_dates / row["seconds"], 2)
    assert any(row["system_seconds"] > 0 for row in rows.values())
    assert rows["fused"]["ratio_to_fused"] == 1.0
    assert rows["decode"]["ratio_to_decode"] == 1.0
    assert rows["local"]["ratio_to_decode"] == round(
        rows["local"]["seconds"] / rows["decode"]["seconds"], 2
    )
    for name in ("local", "stock"):
        check = result["agreement"][TINY.name][name]
        assert check["same_shape"] and check["same_nan"], check
        assert check["max_abs_diff"] <= 1e-6, check
    table = markdown(result)
    # header, the 4 pipelines and the cluster's row; a blank line and the cluster's line
    assert table.count("\n") == 2 + 5 + 2 - 1
    assert "| 8x64^2 | local |" in table
    json.dumps(result)  # the JSON file can be written


@pytest.mark.slow
def test_rounds_alternate_and_report_the_median_run(tiny_scene):
    """``--rounds 3``: every pipeline runs three times, alternating; its row is the run of
    median time, with all three times."""
    root, _catalog = tiny_scene
    order: list[str] = []
    result = run_benchmark(
        [TINY], root=root, pipelines=("fused", "decode"), rounds=3,
        log=lambda m: order.append(m.split()[1]) if m.endswith("...") else None,
    )  # fmt: skip
    assert order == ["fused", "decode"] * 3
    for row in result["rows"]:
        assert len(row["seconds_all"]) == 3
        assert row["seconds"] == sorted(row["seconds_all"])[1]
    assert "the median of 3 rounds" in markdown(result)


def test_a_series_compares_the_median_peak_of_each_scene():
    """``--series area --rounds 3``: a scene's peak RSS is the median of its runs (one
    run's peak moves with the threads' timing), every run listed."""
    from benchmarks.report import memory_lines

    rows = [
        {"pipeline": "local", "scene": "4x2048", "peak_rss_mib": 560.0,
         "peak_rss_all": [600.0, 500.0, 560.0]},
        {"pipeline": "local", "scene": "4x8192", "peak_rss_mib": 700.0,
         "peak_rss_all": [700.0, 640.0, 620.0]},
    ]  # fmt: skip
    summary, runs = memory_lines({"rows": rows})
    assert summary == (
        "local: peak RSS 560-640 MiB over 2 scenes (medians of 3 runs), largest / smallest x1.14"
    )
    assert runs == "  each run: 4x2048 600 / 500 / 560; 4x8192 700 / 640 / 620"
    one_round = [{**r, "peak_rss_all": [r["peak_rss_mib"]]} for r in rows]
    assert memory_lines({"rows": one_round}) == [
        "local: peak RSS 560-700 MiB over 2 scenes, largest / smallest x1.25"
    ]


_OWN_PEAK = (
    "import json; b = b'x' * (64 * 2**20); "
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]; "
    "print(json.dumps({'seconds': 0.1, 'peak_rss_mib': int(hwm) / 1024}))"
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_measure_reports_the_child_and_fails_loudly():
    m = measure([sys.executable, "-c", _OWN_PEAK])
    assert m.report["seconds"] == 0.1
    assert m.peak_rss_mib >= 64  # the child's own peak, as it reports it
    # a child that reports nothing: its process tree is sampled while it runs
    held = "import json, time; b = b'x' * (64 * 2**20); time.sleep(1); print(json.dumps({}))"
    assert measure([sys.executable, "-c", held]).peak_rss_mib >= 64
    with pytest.raises(ChildFailed, match="exited with 3"):
        measure([sys.executable, "-c", "raise SystemExit(3)"])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_large_parent_does_not_count_as_the_childs_peak():
    import numpy as np

    ballast = np.ones(50_000_000)  # 381 MiB resident in this (the parent) process
    small = (
        "import json; hwm = next(l for l in open('/proc/self/status') "
        "if l.startswith('VmHWM')).split()[1]; print(json.dumps({'peak_rss_mib': int(hwm) / 1024}))"
    )
    assert measure([sys.executable, "-c", small]).peak_rss_mib < 200
    assert ballast.sum() == 50_000_000


def test_sizes_are_parsed():
    assert parse_spec("30x1024") == SceneSpec(30, 1024)
    with pytest.raises(ValueError, match="DATESxPIXELS"):
        parse_spec("big")


@pytest.mark.slow
def test_the_external_cluster_entry_is_bit_identical_and_reports_both_sides(measured):
    """``--cluster``: a dask scheduler and two worker processes started for the run; the
    result equals the threaded one, and client and workers are measured apart."""
    result = measured
    assert result["rows"][0]["pipeline"] == "local"
    external = next(r for r in result["rows"] if "external" in r)
    assert external["identical_to_threads"] is True
    summary = result["cluster"]
    assert summary["ratio_to_threads"] == round(
        external["seconds"] / result["rows"][0]["seconds"], 2
    )
    # measured apart (which is larger depends on the imports more than on a tiny scene:
    # the client was above the workers once, 570 / 518 MiB, 2026-12-02)
    assert summary["client_peak_rss_mib"] > 50 and summary["workers_peak_rss_mib"] > 50
    assert summary["cpu_seconds"]["workers"] > 0
    # the workers sent the result to the client (counted at its size:
    # hybrid.io.netcdf_chunks.EncodedBlock.__sizeof__; a result this small is smaller
    # than one file chunk, so every block goes as raw parts) and little else
    assert summary["result_mib"] <= summary["sent_by_workers"]["mib"] < 10 * summary["result_mib"]
    assert "external scheduler + 2 worker processes on 8x64^2" in markdown(result)
    json.dumps(result)


def _imported(name: str) -> bool:
    return name in sys.modules


@pytest.mark.slow
def test_the_external_clusters_scheduler_preloads_what_the_workers_do():
    """The scheduler imports what a graph's tasks refer to when it unpickles the graph:
    the benchmark's scheduler has them loaded before the run, as its workers do (a
    long-lived cluster), so the measured run does not wait for its first imports."""
    from dask.distributed import Client

    from benchmarks.cluster import external_cluster
    from benchmarks.run import child_env

    module = "hybrid.backends.local.halo"
    with (
        external_cluster(1, env=child_env(), preload=(module,)) as cluster,
        Client(cluster.address) as client,
    ):
        assert client.run_on_scheduler(_imported, module) is True
        assert list(client.run(_imported, module).values()) == [True]
        other = "hybrid.backends.local.processes.sparse_kernel"
        assert client.run_on_scheduler(_imported, other) is False


def test_the_profile_names_where_the_time_goes(tiny_scene, capsys):
    from benchmarks.profile import main

    root, _catalog = tiny_scene
    main([TINY.name, "--root", str(root), "--top", "5000"])
    printed = capsys.readouterr().out
    assert f"{TINY.name}: " in printed and "under cProfile" in printed
    assert "convolve_block" in printed and "_read_block" in printed


def test_the_timeline_counts_the_commands_tasks_by_kind(tiny_scene, capsys):
    """``python -m benchmarks.timeline``: the real ``hybrid run`` under dask's Profiler;
    the kernel runs with the engine's halo, not dask's map_overlap."""
    from benchmarks.timeline import kind, main

    root, _catalog = tiny_scene
    main([TINY.name, "--root", str(root), "--top", "50"])
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith(f"{TINY.name}^2: "))
    assert " tasks in " in header and "thread-s" in header
    kinds = [line.split()[-1] for line in printed.splitlines() if " thread-s " in line[:20]]
    assert any("convolve_block-halo" in k for k in kinds) and "overlap" not in printed
    assert kind(("truediv-" + "0a" * 16, 3, 0, 1)) == "truediv"
    assert kind(("where-getitem-" + "f" * 27 + "-39fe", 0)) == "where-getitem"
    assert kind("store-map") == "store-map"


@pytest.mark.slow
def test_end_to_end_runs_the_command_and_a_single_thread_and_they_agree(
    tiny_scene, tmp_path, capsys
):
    """``python -m benchmarks.end_to_end``: the real ``hybrid run`` command and the
    fused pipeline on one thread, each a whole process; same values where both have
    pixels."""
    from benchmarks.end_to_end import main

    root, _catalog = tiny_scene
    out = tmp_path / "e2e.json"
    assert main([TINY.name, "--rounds", "1", "--root", str(root), "--out", str(out)]) == 0
    assert "hybrid run / fused x" in capsys.readouterr().out
    result = json.loads(out.read_text())
    (found,) = result["rounds"]
    check = found["agreement"]
    months = len({d.replace(day=1) for d in TINY.dates})
    assert check["common_pixels"] == check["reference_pixels"] == months * TINY.size**2
    assert check["same_nan"] and check["max_abs_diff"] == 0.0
    assert found["hybrid_run"]["seconds"] > 0 and found["fused_1_thread"]["seconds"] > 0


def test_task_repeats_counts_no_key_computed_twice(tiny_scene, capsys):
    """The tiny scene's dates span two months of unequal length: the shorter one's
    padding used to read the cube's first date, computed once per month."""
    from benchmarks.task_repeats import main

    root, _catalog = tiny_scene
    main([TINY.name, "--root", str(root)])
    printed = capsys.readouterr().out
    assert f"{TINY.name}: " in printed and "tasks run" in printed
    assert ", 0 runs of a key computed before" in printed


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_batch_memory_reports_every_batch_with_its_heap(tiny_scene, capsys):
    """The tiny scene spans two months: two batches open, then all is written, each line
    with RSS, glibc's heap (its size no smaller than what is in use in it) and the peak
    since the line before."""
    import re

    from benchmarks.batch_memory import main

    root, _catalog = tiny_scene
    main([TINY.name, "--root", str(root)])
    lines = capsys.readouterr().out.splitlines()
    reported = [line for line in lines if " opens " in line or "all written" in line]
    assert [line[:15] for line in reported] == [
        "batch   1 opens",
        "batch   2 opens",
        "all written    ",
    ]
    for line in reported:
        figures = dict(re.findall(r"(rss|heap|in use|free|peak) +(\d+)", line))
        assert set(figures) == {"rss", "heap", "in use", "free", "peak"}
        assert int(figures["heap"]) >= int(figures["in use"]) and int(figures["peak"]) > 0
    # the one gate (batch 2's) also says what the scheduler holds for the batches to come
    (held,) = [line.strip() for line in lines if line.strip().startswith("held")]
    assert re.fullmatch(r"held +\d+  \(.*\)", held), held


def test_task_repeats_counts_the_cluster_batches_too(tiny_scene, capsys):
    """``--workers 1``: the keys of every batch a LocalCluster is given; a batch hands
    the next what it shares, so no key is computed in two batches."""
    from benchmarks.task_repeats import main

    root, _catalog = tiny_scene
    main([TINY.name, "--root", str(root), "--workers", "1"])
    printed = capsys.readouterr().out
    assert "tasks run" in printed and ", 0 runs of a key computed before" in printed


def test_read_result_times_both_reads_of_the_same_values(tiny_scene, capsys):
    """``python -m benchmarks.read_result``: the project's read of a result and xarray's
    own load, alternating; it fails (1) when their values differ."""
    from benchmarks.read_result import main

    root, _catalog = tiny_scene
    assert main([TINY.name, "--rounds", "2", "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("same values True") == 2
    assert f"{TINY.name}: open_result " in printed and "(medians); x" in printed


def test_the_read_scaling_reads_every_block_with_one_and_two_threads(tiny_scene):
    from benchmarks.read_threads import ASSETS, block_windows, measure_scaling

    _root, catalog = tiny_scene
    figures = measure_scaling(catalog, rounds=1)
    assert set(figures) == {1, 2}
    assert figures[1]["pixels"] == figures[2]["pixels"]
    side = TINY.size + 2 * MARGIN  # red and nir at 10 m, SCL at 20 m
    assert figures[1]["pixels"] == TINY.n_dates * (2 * side**2 + (side // 2) ** 2)
    assert len({path for path, _ in block_windows(catalog)}) == TINY.n_dates * len(ASSETS)
