#!/bin/sh
# Regenerate the figures shown in the README from the embedded Sentinel-2 sample: offline,
# a minute or two. Usage: sh docs/make_figures.sh [DIR]   (default DIR: docs/figures)
# DIR/digests.json then holds, per PNG, the sha256 of the data it plots; a test
# (tests/project/test_figures_current.py) redraws them and compares.
set -eu
cd "$(dirname "$0")/.."
out=${1:-docs/figures}
python=${PYTHON:-python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# the seed workflow: quicklooks before/after the cloud mask, the mask, NDVI maps, time series
"$python" -m hybrid run --out "$tmp/ndvi.nc" --plots "$out" --quiet

# the same without dilating the cloud mask (a 1x1 kernel), compared with the seed run
"$python" -m hybrid run --out "$tmp/no-dilation.nc" --kernel-size 1 --quiet > /dev/null
"$python" -c 'import sys; from hybrid.plots import plot_comparison; print("figure:", plot_comparison(*sys.argv[1:]))' \
    "$tmp/ndvi.nc" "$tmp/no-dilation.nc" "$out/comparison.png"

"$python" -m hybrid.figure_digest "$out"
