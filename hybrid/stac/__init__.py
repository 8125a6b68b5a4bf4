"""Finding Sentinel-2 L2A scenes: STAC sources, provider layouts, scene selection."""
