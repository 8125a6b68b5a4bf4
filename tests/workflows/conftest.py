"""One ``hybrid serve`` on 127.0.0.1 over the embedded sample for all published workflows,
and the raw input each test checks its result against (downloaded from the same server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import ServeProcess, openeo_env


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("serve-workflows") / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server:
        yield server


@pytest.fixture(scope="session")
def connection(serve: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import openeo

    home = tmp_path_factory.mktemp("client")
    os.environ.update(openeo_env(home))
    return openeo.connect(serve.url).authenticate_basic("hybrid", "hybrid")
