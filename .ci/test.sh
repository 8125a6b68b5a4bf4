#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine with Python + pip, then
# lint, type-check and run the whole test suite. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL + PostGIS for the real STAC API (stac-fastapi-pgstac) used by the tests
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql-15 postgresql-15-postgis-3
fi

python -m pip install -q -e '.[test]'
python -m ruff check hybrid backends tests benchmarks docs
python -m ruff format --check hybrid backends tests benchmarks docs
python -m mypy
# two test processes (pytest-xdist), one test file each at a time: module fixtures
# (servers, clusters, catalogs) stay in one process; HYBRID_TEST_WORKERS=1 runs serially
python -m pytest -n "${HYBRID_TEST_WORKERS:-2}" --dist loadfile "$@"
