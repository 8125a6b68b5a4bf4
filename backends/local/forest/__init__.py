"""Random forests as Copernicus trains, keeps and applies them (Spark MLlib's
``RandomForestModel``): the model and its prediction (:mod:`.model`), its files
(:mod:`.spark_layout`), its training (:mod:`.training`)."""
