"""L1: torch building blocks and the one training loop."""
