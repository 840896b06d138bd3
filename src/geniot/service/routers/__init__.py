"""One router per resource, as FastAPI suggests."""
