"""L4: use cases shared by the CLI and the service (train, sample, evaluate, demo)."""
