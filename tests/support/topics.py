"""Reading what is on a topic, deterministically: a marker on every partition says where "now" is.

Waiting for a timeout to prove a topic is empty would be slow and could pass by luck; and
the log-end offset cannot be trusted on Tansu. So the reader writes a marker to each
partition and reads until it has seen them all: everything before them is everything there is.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from kafka import KafkaConsumer, TopicPartition

from shared.kafka import CONTROL_HEADER, EventProducer, bootstrap_list


class Record(NamedTuple):
    """One record as a test checks it."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_all(bootstrap_servers: str, topic: str, *, timeout_s: float = 20) -> list[bytes]:
    """Every record value on `topic` right now, in partition order, markers excluded."""
    return [r.value for r in read_records(bootstrap_servers, topic, timeout_s=timeout_s)]


def read_records(bootstrap_servers: str, topic: str, *, timeout_s: float = 20) -> list[Record]:
    """Every record on `topic` right now, with where it sits and its headers, markers excluded."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_list(bootstrap_servers), enable_auto_commit=False
    )
    producer = EventProducer(bootstrap_servers, client_id="test-reader")
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        assert partitions, f"topic {topic} has no partitions"
        marks = {
            tp: producer.send_sync(
                topic,
                key=b"",
                value=b"",
                partition=tp.partition,
                headers={CONTROL_HEADER: b"test-marker"},
            ).offset
            for tp in partitions
        }
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[Record] = []
        pending = set(partitions)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for r in records:
                    headers = dict(r.headers or ())
                    if r.offset >= marks[tp]:
                        pending.discard(tp)
                    elif CONTROL_HEADER not in headers:
                        found.append(Record(r.partition, r.offset, r.key, r.value, headers))
        assert not pending, f"markers not read back from {sorted(p.partition for p in pending)}"
        return found
    finally:
        producer.close()
        consumer.close()
