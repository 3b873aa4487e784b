//! The Kafka admin API behind a trait: the real one (rdkafka) and, in tests, a fake.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use rdkafka::{
    admin::{
        AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier,
        TopicReplication,
    },
    client::DefaultClientContext,
    config::ClientConfig,
    error::RDKafkaErrorCode,
    types::RDKafkaErrorCode as Code,
};

use crate::error::{Error, Result};

/// A topic as Kafka has it: partitions and the settings that are not broker defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicState {
    pub partitions: i32,
    pub config: BTreeMap<String, String>,
}

#[async_trait]
pub trait TopicAdmin: Send + Sync {
    /// The topic's partitions, and its configuration when `with_config` (brokers without
    /// DescribeConfigs, such as tansu, answer `UnsupportedFeature` to that part only).
    async fn describe(
        &self,
        servers: &str,
        topic: &str,
        with_config: bool,
    ) -> Result<Option<TopicState>>;
    async fn create(
        &self,
        servers: &str,
        topic: &str,
        partitions: i32,
        replication: i32,
        config: &BTreeMap<String, String>,
    ) -> Result<()>;
    async fn add_partitions(&self, servers: &str, topic: &str, total: i32) -> Result<()>;
    async fn set_config(
        &self,
        servers: &str,
        topic: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<()>;
    async fn delete(&self, servers: &str, topic: &str) -> Result<()>;
}

/// The admin API through librdkafka. One client per bootstrap list, kept.
#[derive(Default)]
pub struct RdKafkaAdmin {
    clients: std::sync::Mutex<BTreeMap<String, Arc<AdminClient<DefaultClientContext>>>>,
}

const TIMEOUT: Duration = Duration::from_secs(15);

fn kafka_err(servers: &str, message: impl std::fmt::Display) -> Error {
    Error::Kafka {
        servers: servers.into(),
        message: message.to_string(),
    }
}

impl RdKafkaAdmin {
    fn client(&self, servers: &str) -> Result<Arc<AdminClient<DefaultClientContext>>> {
        let mut clients = self.clients.lock().expect("admin clients lock");
        if let Some(c) = clients.get(servers) {
            return Ok(c.clone());
        }
        let client: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", servers)
            .set("socket.timeout.ms", "10000")
            .create()
            .map_err(|e| kafka_err(servers, e))?;
        let client = Arc::new(client);
        clients.insert(servers.into(), client.clone());
        Ok(client)
    }

    fn options() -> AdminOptions {
        AdminOptions::new()
            .operation_timeout(Some(TIMEOUT))
            .request_timeout(Some(TIMEOUT))
    }
}

/// Turns the per-topic result of an admin call into an error naming the topic.
fn check<T>(
    servers: &str,
    what: &str,
    results: Vec<std::result::Result<T, (String, RDKafkaErrorCode)>>,
) -> Result<()> {
    for r in results {
        if let Err((name, code)) = r {
            return Err(kafka_err(servers, format!("{what} {name}: {code}")));
        }
    }
    Ok(())
}

#[async_trait]
impl TopicAdmin for RdKafkaAdmin {
    async fn describe(
        &self,
        servers: &str,
        topic: &str,
        with_config: bool,
    ) -> Result<Option<TopicState>> {
        let client = self.client(servers)?;
        let metadata_client = client.clone();
        let (servers_, topic_) = (servers.to_string(), topic.to_string());
        // metadata is a blocking call of librdkafka
        let partitions = tokio::task::spawn_blocking(move || {
            let md = metadata_client
                .inner()
                .fetch_metadata(Some(&topic_), TIMEOUT)
                .map_err(|e| kafka_err(&servers_, e))?;
            let Some(t) = md.topics().iter().find(|t| t.name() == topic_) else {
                return Ok(None);
            };
            match t.error() {
                None => Ok(Some(t.partitions().len() as i32)),
                Some(e)
                    if Code::from(e) == Code::UnknownTopicOrPartition
                        || Code::from(e) == Code::UnknownTopic =>
                {
                    Ok(None)
                }
                Some(e) => Err(kafka_err(
                    &servers_,
                    format!("metadata of {topic_}: {:?}", Code::from(e)),
                )),
            }
        })
        .await
        .map_err(|e| Error::Other(e.to_string()))??;
        let Some(partitions) = partitions else {
            return Ok(None);
        };
        if !with_config {
            return Ok(Some(TopicState {
                partitions,
                config: BTreeMap::new(),
            }));
        }
        let described = client
            .describe_configs(&[ResourceSpecifier::Topic(topic)], &Self::options())
            .await
            .map_err(|e| kafka_err(servers, e))?;
        let mut config = BTreeMap::new();
        for resource in described {
            let resource = resource
                .map_err(|e| kafka_err(servers, format!("configuration of {topic}: {e}")))?;
            for entry in resource.entries {
                if !entry.is_default {
                    if let Some(v) = entry.value {
                        config.insert(entry.name, v);
                    }
                }
            }
        }
        Ok(Some(TopicState { partitions, config }))
    }

    async fn create(
        &self,
        servers: &str,
        topic: &str,
        partitions: i32,
        replication: i32,
        config: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
        for (k, v) in config {
            new = new.set(k, v);
        }
        let r = self
            .client(servers)?
            .create_topics(&[new], &Self::options())
            .await
            .map_err(|e| kafka_err(servers, e))?;
        check(servers, "create topic", r)
    }

    async fn add_partitions(&self, servers: &str, topic: &str, total: i32) -> Result<()> {
        let r = self
            .client(servers)?
            .create_partitions(
                &[NewPartitions::new(topic, total as usize)],
                &Self::options(),
            )
            .await
            .map_err(|e| kafka_err(servers, e))?;
        check(servers, "add partitions to", r)
    }

    async fn set_config(
        &self,
        servers: &str,
        topic: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
        for (k, v) in config {
            alter = alter.set(k, v);
        }
        let r = self
            .client(servers)?
            .alter_configs(&[alter], &Self::options())
            .await
            .map_err(|e| kafka_err(servers, e))?;
        for res in r {
            res.map_err(|(_, code)| kafka_err(servers, format!("configure {topic}: {code}")))?;
        }
        Ok(())
    }

    async fn delete(&self, servers: &str, topic: &str) -> Result<()> {
        let r = self
            .client(servers)?
            .delete_topics(&[topic], &Self::options())
            .await
            .map_err(|e| kafka_err(servers, e))?;
        match check(servers, "delete topic", r) {
            Err(Error::Kafka { message, .. }) if message.contains("UnknownTopicOrPartition") => {
                Ok(())
            }
            other => other,
        }
    }
}
