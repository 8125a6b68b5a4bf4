"""Writing files so that nothing half-written is ever left behind."""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def _umask() -> int:
    """The process umask (read once: setting it is process-wide and not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def work_folder(parent: Path, name: str) -> Iterator[Path]:
    """A temporary folder ``.NAME-PID-*`` in ``parent``, removed on exit (also on SIGTERM,
    which the CLI turns into SystemExit). Folders of earlier runs whose process is gone
    (killed with SIGKILL) are removed first."""
    import shutil

    for stale in parent.glob(f".{name}-*-*"):
        pid = stale.name.split("-")[-2]
        if stale.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-{os.getpid()}-", dir=parent) as tmp:
        yield Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextlib.contextmanager
def made_folder(path: Path) -> Iterator[Path]:
    """``path``, created with its missing parents; the folders this created are removed
    again when the block fails and they are still empty (a failed command leaves
    nothing behind)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for folder in missing:  # innermost first
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone): keep it and its parents
                break
        raise


#: the end of the name of :func:`atomic_path`'s temporary files
_PART = ".part"


def leftovers(target: Path) -> list[Path]:
    """The temporary files :func:`atomic_path` left beside ``target`` when its process
    was killed while writing (``.NAME.XXXXXXXX.part``)."""
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*{_PART}"))


@contextlib.contextmanager
def atomic_path(target: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it only on success; the file
    gets ``mode``, else the permissions a normal file gets."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_PART, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = _umask()
    try:
        yield tmp_path
        # mkstemp creates 0600; give the result the permissions a normal file gets
        tmp_path.chmod(0o666 & ~umask if mode is None else mode)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)
