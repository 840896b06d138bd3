"""Security of the data channel: tell forged, replayed and flooded data from process faults.

:class:`SecurityDetector` is fitted on normal message logs of a plant and raises
:class:`SecurityEvent` s of three kinds: ``process`` (the machine or an instrument is at fault),
``integrity`` (the data were forged: false data injection, replay, spoofed source, manipulated
time stamps) and ``traffic`` (message flood or silence, odd payload sizes).
"""

from geniot.security.detector import SecurityDetector, SecurityStream
from geniot.security.events import EVENT_COLUMNS, SecurityEvent, events_frame
from geniot.security.messages import Message, messages_from_frame, read_message_log

__all__ = [
    "EVENT_COLUMNS",
    "Message",
    "SecurityDetector",
    "SecurityEvent",
    "SecurityStream",
    "events_frame",
    "messages_from_frame",
    "read_message_log",
]
