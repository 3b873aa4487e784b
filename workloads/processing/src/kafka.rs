//! Kafka client settings shared by the roles.

use std::time::Duration;

use ff_warehouse::PartitionKey;
use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::{ClientConfig, Offset};

use crate::cursor::Cursor;

/// Consumer/producer settings common to every role; `extra` are `key=value` overrides.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    pub brokers: String,
    /// Group session timeout. Tansu completes a group join only after the rebalance timeout, so the
    /// local profile keeps it at a few seconds.
    pub session_timeout_ms: u32,
    pub extra: Vec<(String, String)>,
}

impl KafkaSettings {
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }

    pub fn consumer_config(&self, group: &str, client_id: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("group.id", group)
            .set("client.id", client_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // range keeps partition N of both topics on the same worker (co-partitioning)
            .set("partition.assignment.strategy", "range")
            .set("session.timeout.ms", self.session_timeout_ms.to_string())
            .set(
                "max.poll.interval.ms",
                self.session_timeout_ms.max(6000).to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (self.session_timeout_ms / 4).max(500).to_string(),
            )
            .set("topic.metadata.refresh.interval.ms", "5000")
            // a fetch on a quiet partition returns within 100 ms: commit latency on a trickle
            .set("fetch.wait.max.ms", "100");
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }
}

/// Parses `key=value`.
pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

/// Seeks a partition, logging a failure: the idle-partition probe retries later.
pub fn seek<X: ConsumerContext, C: Consumer<X>>(consumer: &C, key: &PartitionKey, offset: i64) {
    if let Err(e) = consumer.seek(
        &key.topic,
        key.partition,
        Offset::Offset(offset),
        Duration::from_secs(5),
    ) {
        tracing::warn!(partition = %key, offset, error = %e, "seek failed");
    }
}

/// An idle partition whose broker holds more than the cursor accepted: the fetch skipped offsets
/// (see `cursor`). Asks the broker's high watermark and seeks back; true when it did. Blocking.
pub fn probe_idle<X: ConsumerContext, C: Consumer<X>>(
    consumer: &C,
    key: &PartitionKey,
    cursor: &mut Cursor,
) -> bool {
    let Ok((_, high)) =
        consumer.fetch_watermarks(&key.topic, key.partition, Duration::from_secs(2))
    else {
        return false;
    };
    match cursor.stalled(high) {
        Some(offset) => {
            tracing::info!(partition = %key, expected = cursor.expected(), high, seek = offset,
                "partition idle behind the high watermark: seeking back");
            seek(consumer, key, offset);
            true
        }
        None => false,
    }
}
