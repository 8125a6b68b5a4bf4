"""The embedded sample's items as the sample tests read them: folders, ids, days, assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLOUD = (8, 9, 10)


def _folder(sample: Path, item: dict[str, Any]) -> Path:
    return sample.parent / item["id"]


def _day(item: dict[str, Any]) -> str:
    return str(item["properties"]["datetime"][:10])
