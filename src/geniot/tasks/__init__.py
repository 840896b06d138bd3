"""Tasks: thin policies over a fitted generator (fill gaps, detect anomalies, ...)."""

from geniot.tasks.detector import AnomalyDetector, Detection
from geniot.tasks.events import Event, debounce, group_events
from geniot.tasks.imputer import GapImputer
from geniot.tasks.streaming import StreamingScorer

__all__ = ["AnomalyDetector", "Detection", "Event", "GapImputer", "StreamingScorer", "debounce", "group_events"]
