from __future__ import annotations

from hybrid.cli import console

console()
