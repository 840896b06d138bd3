"""Who published an MQTT message, as the broker vouches for it.

An MQTT subscriber never sees the publishing client's id or user name. geniot learns the publisher
from the topic instead, under a prefix the broker guards: each gateway has its own broker account
and the ACL lets it write only below ``<prefix>/<its user name>/`` (Mosquitto: ``pattern write
pub/%u/#``). A topic ``pub/gw-p1/plant/pumps/p1`` then proves the message came from user
``gw-p1`` and carries the readings topic ``plant/pumps/p1``. (MQTT 5 user properties are not used:
any client can set them, and a stock broker does not check them.)
"""

from __future__ import annotations

UNKNOWN_PUBLISHER = ""  # a message outside the guarded prefix: the broker vouches for nobody


def split_publisher(topic: str, prefix: str | None) -> tuple[str, str]:
    """``(publisher, readings topic)`` of a received topic. Without a prefix, or for a topic outside
    it, the publisher is unknown and the topic is kept as it is."""
    if not prefix:
        return UNKNOWN_PUBLISHER, topic
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return UNKNOWN_PUBLISHER, topic
    user, sep, rest = topic[len(head) :].partition("/")
    if not user or not sep or not rest:  # "pub/user" alone carries no readings topic
        return UNKNOWN_PUBLISHER, topic
    return user, rest


def publisher_topic(topic: str, publisher: str, prefix: str | None) -> str:
    """The topic a publisher sends ``topic`` on under ``prefix`` (the inverse of :func:`split_publisher`)."""
    return topic if not prefix else f"{prefix.rstrip('/')}/{publisher}/{topic}"
