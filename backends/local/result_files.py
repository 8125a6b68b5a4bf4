"""The files a run's save_results wrote, as Copernicus leaves them in the job folder:
each result's files written in turn, so a later one replaces an earlier one's file of
the same name (openeo-geopyspark-driver deploy/batch_job.py L438-515)."""

from __future__ import annotations

from pathlib import Path

from hybrid.run_warnings import warn


def add_files(files: list[Path], written: list[Path]) -> None:
    """``written`` appended to ``files``; one already there was replaced: a warning."""
    for path in written:
        if path not in files:
            files.append(path)
            continue
        warn(
            f"save_result wrote {path.name} again: the later file replaces the earlier "
            "one, as on Copernicus (give one save_result another format or "
            "options.filename_prefix to keep both)"
        )
