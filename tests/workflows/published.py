"""Published files read where they are, never copied into the project: from a checkout,
or a bare git directory, named by an environment variable; the test skips without one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def published_text(env: str, relative: str, repository: str) -> str:
    """The text of ``relative`` in the checkout (or bare git directory) named by ``env``,
    a copy of ``repository``; skips the test when ``env`` is unset or holds no such file."""
    root = os.environ.get(env)
    if not root:
        pytest.skip(f"set {env} to a checkout of {repository}")
    if (Path(root) / relative).is_file():
        return (Path(root) / relative).read_text(encoding="utf-8")
    try:
        shown = subprocess.run(
            ["git", f"--git-dir={root}", "show", f"HEAD:{relative}"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"{env}={root} holds no {relative}")
    return shown.stdout
