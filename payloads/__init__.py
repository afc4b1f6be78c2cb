"""The common payload model, the built-in taxi-hailing payloads, importers and evolution scenarios."""
