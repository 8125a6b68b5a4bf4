"""Giving the heap's free pages back, also between batches when asked (hybrid.allocator)."""

from __future__ import annotations

import sys

import psutil
import pytest

from hybrid.allocator import TRIM_ENV, after_batch, release_freed_memory

_MIB = 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_pages_in_the_middle_of_the_heap_go_back_to_the_system() -> None:
    """200 MiB of 64 KiB buffers (under any mmap threshold: from the heap), every 16th
    kept, so the free space lies between chunks in use and the heap's top cannot be
    trimmed: the resident size stays until ``release_freed_memory``."""
    buffers = [bytearray(b"\x01" * (64 * 1024)) for _ in range(3200)]
    kept = buffers[::16]
    del buffers
    before = psutil.Process().memory_info().rss
    assert release_freed_memory()
    after = psutil.Process().memory_info().rss
    assert before - after > 100 * _MIB, (before / _MIB, after / _MIB)
    assert all(buffer[0] == 1 for buffer in kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_store_trims_after_a_batch_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRIM_ENV, raising=False)
    assert not after_batch()
    monkeypatch.setenv(TRIM_ENV, "1")
    assert after_batch()
