"""hybrid.allocator: the computing threads share one glibc malloc arena, and the memory
a computation freed goes back to the system once it has ended."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None,
    reason="glibc's allocator only",
)

# Three new threads allocate small blocks (from an arena, not mmap); malloc_info lists
# one <heap> per arena: how many arenas did they add? (Threads started before, such as
# OpenBLAS's, keep the arenas they have.)
_ARENAS = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, tempfile, threading
    from hybrid.allocator import share_one_arena
    if sys.argv[1] == "shared":
        share_one_arena()
    if sys.argv[1] == "engine":  # a threaded computation of the local backend
        import dask.array as da
        from hybrid.backends.local import LocalSettings
        from hybrid.backends.local.compute import compute
        compute(da.ones((64, 64), chunks=8).sum(), LocalSettings())
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    def arenas():
        with tempfile.NamedTemporaryFile(suffix=".xml") as f:
            stream = libc.fopen(f.name.encode(), b"w")
            libc.malloc_info(0, stream)
            libc.fclose(stream)
            return open(f.name).read().count("<heap nr=")
    before = arenas()
    kept = []
    def work():
        kept.append([bytearray(4096) for _ in range(256)])
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(arenas() - before)
    """
)


def _new_arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout)


def test_threads_allocate_from_one_arena_once_shared() -> None:
    assert _new_arenas("default") > 0  # glibc's default: an arena per thread
    assert _new_arenas("shared") == 0
    assert _new_arenas("engine") == 0


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from hybrid import allocator

    called = []
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setattr(allocator, "_libc_function", lambda name: called.append(name))
    allocator.share_one_arena()
    assert called == []


def test_a_computation_gives_its_freed_memory_back_once_it_has_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once per computation (not per batch), also when it fails."""
    import dask.array as da

    from hybrid import allocator
    from hybrid.backends.local import LocalSettings
    from hybrid.backends.local.compute import compute, store

    trims: list[str] = []
    monkeypatch.setattr(allocator, "release_freed_memory", lambda: trims.append("trim"))
    blocks = da.ones((64, 64), chunks=8)  # 64 blocks: 16 batches of 4
    store(blocks, lambda index, block: None, LocalSettings())
    assert trims == ["trim"]

    def fail(block: object) -> object:
        raise ValueError("a block failed")

    with pytest.raises(ValueError, match="a block failed"):
        compute(blocks.map_blocks(fail, dtype=float), LocalSettings())
    assert trims == ["trim", "trim"]
