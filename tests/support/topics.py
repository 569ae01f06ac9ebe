"""Reading what is on a topic, deterministically: a marker on every partition says where "now" is.

Waiting for a timeout to prove a topic is empty would be slow and could pass by luck; and
the log-end offset cannot be trusted on Tansu. So the reader writes a marker to each
partition and reads until it has seen them all: everything before them is everything there is.
"""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from shared.kafka import CONTROL_HEADER, EventProducer, bootstrap_list


def read_all(bootstrap_servers: str, topic: str, *, timeout_s: float = 20) -> list[bytes]:
    """Every record value on `topic` right now, in partition order, markers excluded."""
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
        values: list[bytes] = []
        pending = set(partitions)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for r in records:
                    if r.offset >= marks[tp]:
                        pending.discard(tp)
                    elif not any(k == CONTROL_HEADER for k, _ in r.headers or ()):
                        values.append(r.value)
        assert not pending, f"markers not read back from {sorted(p.partition for p in pending)}"
        return values
    finally:
        producer.close()
        consumer.close()
