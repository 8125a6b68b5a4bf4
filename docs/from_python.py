"""The seed tutorial's openeo client code, unchanged, on an in-process hybrid emulator.

A notebook's cells as a script (the README's "From Python" section shows the same code):
``python docs/from_python.py [CATALOG [OUT_DIR [START END]]]``. CATALOG defaults to the
embedded sample, OUT_DIR to ``result``, the dates to the seed season. The downloaded NetCDF
is the one ``hybrid run --stac CATALOG --start START --end END`` writes:
``hybrid compare OUT_DIR/openEO.nc out/ndvi.nc`` says EQUIVALENT (tests/cli/test_api.py).
"""

import sys

import numpy as np

import hybrid

CATALOG = sys.argv[1] if len(sys.argv) > 1 else None  # None: the embedded sample
OUT_DIR = sys.argv[2] if len(sys.argv) > 2 else "result"
START, END = sys.argv[3:5] if len(sys.argv) > 4 else ("2023-05-01", "2023-09-30")

# the one line that differs from the tutorial: instead of openeo.connect(COPERNICUS_URL)
connection = hybrid.connect("local", stac=CATALOG)

# --- the seed tutorial's client code from here on ---
metadata = connection.describe_collection("SENTINEL2_L2A")
print("bands:", ", ".join(b["name"] for b in metadata["summaries"]["eo:bands"]))

cube = connection.load_collection(
    "SENTINEL2_L2A",
    spatial_extent={"west": 6.654445, "south": 45.2258959, "east": 6.675134, "north": 45.2641447},
    temporal_extent=[START, END],
    bands=["B04", "B03", "B02", "B08", "SCL"],
    max_cloud_cover=20,
)

# clouds: SCL classes 8 and 9, dilated by an 11x11 Gaussian (std 1.6), threshold 0.1
scl = cube.band("SCL")
cloud = (scl == 8) | (scl == 9)
offsets = np.arange(11) - 5
gauss = np.exp(-0.5 * (offsets / 1.6) ** 2)
kernel = np.outer(gauss, gauss)
kernel = kernel / kernel.sum()
mask = cloud.apply_kernel(kernel.tolist()) > 0.1

# band maths: NDVI of the masked cube, averaged per month
masked = cube.mask(mask)
red, nir = masked.band("B04"), masked.band("B08")
ndvi = (nir - red) / (nir + red)
monthly = ndvi.aggregate_temporal_period("month", reducer="mean")

job = monthly.execute_batch(out_format="netCDF")
paths = job.get_results().download_files(OUT_DIR)
print("downloaded:", *paths)
