"""The release's topic list, by the one naming rule (services/common/events.py)."""
from __future__ import annotations

from collections.abc import Iterable

from services.common import events

# Consumer groups, one per service; each has a dead-letter topic.
CONSUMER_GROUPS = ("registry", "sortition", "sessions", "recommendations")


def all_topics(prefix: str = "kleroterion",
               groups: Iterable[str] = CONSUMER_GROUPS) -> list[str]:
    """Every event topic, then every dead-letter topic."""
    topics = [events.topic_for(t, prefix) for t in events.EVENT_TYPES]
    topics += [events.dead_letter_topic(g, prefix) for g in groups]
    return topics
