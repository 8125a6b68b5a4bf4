"""The published integration tests of the Copernicus backend developers
(Open-EO/openeo-geopyspark-integrationtests ``tests/test_integration.py``): where their
checkout is named, and the mark that skips the replayed tests without one.
"""

from __future__ import annotations

import os

import pytest

INTEGRATIONTESTS_ENV = "HYBRID_GEOPYSPARK_INTEGRATIONTESTS"
REPO = "Open-EO/openeo-geopyspark-integrationtests"
#: skips a module of replayed tests when no checkout is named
NEEDS_CHECKOUT = pytest.mark.skipif(
    not os.environ.get(INTEGRATIONTESTS_ENV),
    reason=f"set {INTEGRATIONTESTS_ENV} to a checkout of {REPO}",
)
#: one day of the sample with one scene over BBOX
DAY = "2023-06-12"
