"""L5: the plant service — FastAPI app over the store, ingest, live scoring and jobs."""
