//! The master drains the dead-letter topic (records the loader could not even parse) into `rejets`,
//! with the same fenced, offsets-in-the-warehouse commit as the workers.

use std::collections::HashMap;
use std::time::Duration;

use ff_warehouse::offsets;
use ff_warehouse::PartitionKey;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};
use sqlx::{Connection, PgConnection};

use crate::batch::{self, Topics};
use crate::cursor::{Admit, Cursor};
use crate::decode::{Decoded, Message};
use crate::kafka::{self, KafkaSettings};

pub const DLQ_GROUP: &str = "freelanceflow-dlq";

pub async fn run(
    kafka: KafkaSettings,
    topic: String,
    database_url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let pool = ff_warehouse::connect(&database_url, 2).await?;
    let mut conn = PgConnection::connect(&database_url).await?;
    batch::prepare(&mut conn).await?;
    let consumer: StreamConsumer = kafka.consumer_config(DLQ_GROUP, "master-dlq").create()?;

    // Wait for the topic (the loader creates it).
    let partitions = loop {
        let md = tokio::task::block_in_place(|| {
            consumer.fetch_metadata(Some(&topic), Duration::from_secs(5))
        });
        match md {
            Ok(md) => {
                let n = md
                    .topics()
                    .iter()
                    .find(|t| t.name() == topic && t.error().is_none())
                    .map(|t| t.partitions().len())
                    .unwrap_or(0);
                if n > 0 {
                    break n as i32;
                }
            }
            Err(e) => tracing::debug!(error = %e, "dead-letter topic not available yet"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return Ok(()),
        }
    };
    let keys: Vec<PartitionKey> = (0..partitions)
        .map(|p| PartitionKey::new(&topic, p))
        .collect();
    let claims = offsets::claim(&pool, DLQ_GROUP, "master", &keys).await?;
    let mut tpl = TopicPartitionList::new();
    for c in &claims {
        tpl.add_partition_offset(&c.key.topic, c.key.partition, Offset::Offset(c.next_offset))?;
    }
    consumer.assign(&tpl)?;
    let mut cursors: HashMap<PartitionKey, Cursor> = claims
        .iter()
        .map(|c| (c.key.clone(), Cursor::new(c.next_offset)))
        .collect();
    let claims: HashMap<PartitionKey, _> = claims.into_iter().map(|c| (c.key.clone(), c)).collect();
    let topics = Topics {
        group: DLQ_GROUP.to_string(),
        profils: String::new(),
        factures: String::new(),
    };
    tracing::info!(%topic, partitions, "draining the dead-letter topic");

    let mut decoded = Decoded::default();
    let mut idle = tokio::time::interval(Duration::from_secs(3));
    let mut seen_since_tick = false;
    loop {
        tokio::select! {
            _ = idle.tick() => {
                if !std::mem::take(&mut seen_since_tick) {
                    for (key, cursor) in cursors.iter_mut() {
                        tokio::task::block_in_place(|| kafka::probe_idle(&consumer, key, cursor));
                    }
                }
            }
            m = consumer.recv() => match m {
                Ok(m) => {
                    seen_since_tick = true;
                    let key = PartitionKey::new(m.topic(), m.partition());
                    match cursors.get_mut(&key).map(|c| c.admit(m.offset())) {
                        Some(Admit::Accept) => decoded.push(Message {
                            topic: m.topic(),
                            partition: m.partition(),
                            offset: m.offset(),
                            payload: m.payload(),
                        }),
                        Some(Admit::SeekTo(offset)) => kafka::seek(&consumer, &key, offset),
                        Some(Admit::Skip) | None => {}
                    }
                }
                Err(e) => tracing::warn!(error = %e, "dead-letter consumer error"),
            },
            _ = tokio::time::sleep(Duration::from_millis(500)), if !decoded.is_empty() => {
                match batch::commit(&mut conn, &topics, &claims, "master", &decoded).await {
                    Ok(stats) => {
                        tracing::info!(rejects = stats.rejects, "dead letters recorded in rejets");
                        decoded = Decoded::default();
                    }
                    Err(e) if e.is_fenced() => {
                        anyhow::bail!("another master drains the dead-letter topic: {e}");
                    }
                    Err(e) => {
                        // keep the batch: nothing is lost, the commit is retried
                        tracing::error!(error = %e, "recording dead letters failed; retrying in 5 s");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        conn = PgConnection::connect(&database_url).await?;
                        batch::prepare(&mut conn).await?;
                    }
                }
            }
            _ = stop.changed() => return Ok(()),
        }
    }
}
