"""A model's STAC Item read over http(s), as Copernicus's ``ModelLoader.load_from_url``
reads it (openeo-geopyspark-driver 9baf2e10 ``ml/modelloader.py`` L29-47, L76-118,
L181-193): the Item's ``properties["ml-model:architecture"]`` must be
``random-forest``; its one asset with the role ``ml-model:checkpoint`` is the archive,
downloaded and unpacked. Errors are one 400 naming the URL and why.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.model_item import ARCHIVE, checkpoint_href


@contextlib.contextmanager
def fetched_archive(url: str) -> Iterator[Path]:
    """The model archive of the Item at ``url``, downloaded into a temporary file."""
    item = _fetched(url, None)
    href = checkpoint_href(item, url)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / ARCHIVE
        _fetched(href, archive)
        yield archive


def _fetched(href: str, into: Path | None) -> Any:
    """The JSON document at ``href`` (``into`` None), else the file, written there."""
    import requests

    from hybrid.backends.local.stac_documents import TIMEOUT, network_reason

    try:
        with requests.get(href, timeout=TIMEOUT, stream=into is not None) as answer:
            answer.raise_for_status()
            if into is None:
                return answer.json()
            with into.open("wb") as out:
                for chunk in answer.iter_content(1 << 20):
                    out.write(chunk)
            return None
    except (requests.RequestException, ValueError) as exc:
        raise ProcessParameterInvalid(
            f"load_ml_model: cannot read {href}: {network_reason(exc)}"
        ) from None
