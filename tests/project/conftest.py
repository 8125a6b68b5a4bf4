"""The default sample and its items, as the sample tests read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def sample(sample_catalog: Path) -> Path:
    """The default sample (conftest generates it once per session with ensure_sample)."""
    return sample_catalog


@pytest.fixture(scope="session")
def items(sample: Path) -> list[dict[str, Any]]:
    coll = json.loads(sample.read_text(encoding="utf-8"))
    hrefs = [link["href"] for link in coll["links"] if link["rel"] == "item"]
    return [json.loads((sample.parent / h).read_text(encoding="utf-8")) for h in hrefs]
