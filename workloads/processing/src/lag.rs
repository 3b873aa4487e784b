//! Consumer lag: the broker's high watermarks minus the offsets stored in the warehouse.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Serialize;
use sqlx::PgPool;

use crate::kafka::KafkaSettings;

#[derive(Clone, Debug, Serialize)]
pub struct PartitionLag {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub high_watermark: i64,
    pub committed: i64,
    pub lag: i64,
}

/// A broker client for [`lag`]; keep it across measurements (each one costs a broker connection).
pub fn client(kafka: &KafkaSettings) -> anyhow::Result<BaseConsumer> {
    Ok(kafka.client_config().create()?)
}

/// The lag of `group` on every partition of `topics` (a partition never committed counts from 0).
pub async fn lag(
    consumer: &BaseConsumer,
    pool: &PgPool,
    group: &str,
    topics: &[&str],
) -> anyhow::Result<Vec<PartitionLag>> {
    let mut out = Vec::new();
    for topic in topics {
        let md = tokio::task::block_in_place(|| {
            consumer.fetch_metadata(Some(topic), Duration::from_secs(5))
        })?;
        let partitions = md
            .topics()
            .iter()
            .find(|t| t.name() == *topic)
            .map(|t| t.partitions().len() as i32)
            .unwrap_or(0);
        for p in 0..partitions {
            let (_, high) = tokio::task::block_in_place(|| {
                consumer.fetch_watermarks(topic, p, Duration::from_secs(5))
            })?;
            let committed: Option<i64> = sqlx::query_scalar(
                "SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
            )
            .bind(group)
            .bind(topic)
            .bind(p)
            .fetch_optional(pool)
            .await?;
            let committed = committed.unwrap_or(0);
            out.push(PartitionLag {
                group: group.to_string(),
                topic: topic.to_string(),
                partition: p,
                high_watermark: high,
                committed,
                lag: (high - committed).max(0),
            });
        }
    }
    Ok(out)
}
