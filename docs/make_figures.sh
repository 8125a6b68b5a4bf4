#!/bin/sh
# Regenerate the figures in docs/figures/ (shown in the README) from the embedded
# Sentinel-2 sample: offline, about a minute. Usage: sh docs/make_figures.sh
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# the seed workflow: quicklooks before/after the cloud mask, the mask, NDVI maps, time series
python -m hybrid run --out "$tmp/ndvi.nc" --plots docs/figures --quiet

# the same without dilating the cloud mask (a 1x1 kernel), compared with the seed run
python -m hybrid run --out "$tmp/no-dilation.nc" --kernel-size 1 --quiet > /dev/null
python -c 'import sys; from hybrid.plots import plot_comparison; print("figure:", plot_comparison(*sys.argv[1:]))' \
    "$tmp/ndvi.nc" "$tmp/no-dilation.nc" docs/figures/comparison.png
