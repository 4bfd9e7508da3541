"""Kafka operations: consumer lag per group and creating the release's topics."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.bus import KafkaConfig
from services.common.settings import ServiceSettings


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


def kafka_config(settings: ServiceSettings | None = None,
                 bootstrap: str | None = None) -> KafkaConfig:
    """The services' own Kafka settings (KLERO_KAFKA_*), with an optional bootstrap override."""
    settings = settings or ServiceSettings.from_env()
    servers = tuple(s.strip() for s in bootstrap.split(",") if s.strip()) if bootstrap \
        else settings.kafka_bootstrap
    if not servers:
        raise ValueError("--bootstrap: no Kafka bootstrap servers given")
    return KafkaConfig(bootstrap_servers=servers,
                       security_protocol=settings.kafka_security_protocol,
                       sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_username=settings.kafka_sasl_username,
                       sasl_password=settings.kafka_sasl_password,
                       ssl_cafile=settings.kafka_ssl_cafile,
                       client_id="kleroterion-ops")


def consumer_lag(config: KafkaConfig, groups: Iterable[str] | None = None) -> list[PartitionLag]:
    """End offset minus committed offset for every partition a group has committed on.

    ``groups=None`` means every consumer group the cluster knows.
    """
    from kafka.admin import KafkaAdminClient, OffsetSpec

    admin = KafkaAdminClient(**config.client_kwargs())
    try:
        if groups is None:
            groups = sorted(_group_id(g) for g in admin.list_groups())
        groups = list(groups)
        rows: list[PartitionLag] = []
        for group in groups:
            offsets = admin.list_group_offsets({group: None}).get(group, {})
            committed = {tp: meta.offset for tp, meta in offsets.items()
                         if meta is not None and meta.offset >= 0}
            if not committed:
                continue
            ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in committed})
            for tp in sorted(committed, key=lambda t: (t.topic, t.partition)):
                rows.append(PartitionLag(group, tp.topic, tp.partition, committed[tp],
                                         ends[tp].offset))
        return rows
    finally:
        admin.close()


def _group_id(entry: Any) -> str:
    # Group entries are dicts from ListGroupsResponse (or tuples on older clients); kafka-python
    # leaves them untyped.
    group_id: str
    if isinstance(entry, dict):
        group_id = entry["group_id"]
    elif isinstance(entry, tuple):
        group_id = entry[0]
    else:
        group_id = getattr(entry, "group_id", entry)
    return group_id


def lag_by_group(rows: Iterable[PartitionLag]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.group] = totals.get(row.group, 0) + row.lag
    return totals


def create_topics(config: KafkaConfig, topics: Iterable[str], partitions: int,
                  replication_factor: int = -1,
                  topic_config: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Create the topics that do not exist yet; (created, already there). Existing topics are
    left as they are: partitions can only grow, and that is an operator's decision."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    if partitions < 1:
        raise ValueError(f"--partitions: must be at least 1, got {partitions}")
    wanted = list(dict.fromkeys(topics))
    admin = KafkaAdminClient(**config.client_kwargs())
    try:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        created: list[str] = []
        for topic in missing:
            new = NewTopic(name=topic, num_partitions=partitions,
                           replication_factor=replication_factor,
                           topic_configs=dict(topic_config or {}))
            try:
                admin.create_topics([new], wait_for_metadata=True)
                created.append(topic)
            except TopicAlreadyExistsError:
                pass  # a service or a second Job created it between our list and create
        return created, [t for t in wanted if t not in created]
    finally:
        admin.close()
