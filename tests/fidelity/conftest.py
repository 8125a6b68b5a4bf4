"""A tiny catalog in a temp folder (tests/fidelity/tiny_catalog.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity.tiny_catalog import Catalog


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path)
