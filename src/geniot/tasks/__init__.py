"""L3: tasks built on a fitted generator (gap filling, anomaly detection, ...)."""
