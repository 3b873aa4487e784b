//! Publishing a folder of input files to Kafka: topics, partitioning, the dead-letter topic, the
//! ledger of loaded files and the end-of-load markers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ff_core::{
    invoice_freelance_ref, profile_field, validate_profile, Envelope, FreelanceRef, Partitioner,
    ProfileField, SourceRef,
};
use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::read::{json_records, CsvRecords, Parsed};

#[derive(Clone, Debug)]
pub struct LoaderConfig {
    pub input: PathBuf,
    pub brokers: String,
    pub kafka_extra: Vec<(String, String)>,
    pub topic_profils: String,
    pub topic_factures: String,
    pub topic_dlq: String,
    pub partitions: i32,
    pub replication: i32,
    pub partitioner: Partitioner,
    /// The warehouse: ledger of loaded files, and names of known freelancers for invoices that
    /// name their freelancer instead of giving its id. Optional.
    pub database_url: Option<String>,
    /// Publish files again even when the ledger says they were loaded.
    pub force: bool,
    pub idempotence: bool,
    pub progress: bool,
    /// Records per second at most (a steady feed, for latency measurements); unlimited when None.
    pub rate: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Profils,
    Factures,
}

impl FileKind {
    pub fn of(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?;
        if name.starts_with('_') || name.starts_with('.') {
            return None; // manifests, hidden files
        }
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" | "jsonl" | "ndjson" => Some(FileKind::Profils),
            "csv" => Some(FileKind::Factures),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Profils => "profils",
            FileKind::Factures => "factures",
        }
    }
}

/// What happened to one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileSummary {
    pub file: String,
    pub kind: Option<FileKind>,
    pub read: u64,
    pub published: u64,
    /// sent to the dead-letter topic: could not even be parsed
    pub refused: u64,
    pub already_loaded: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    pub load_id: String,
    pub files: Vec<FileSummary>,
    pub seconds: f64,
}

impl LoadReport {
    pub fn published(&self) -> u64 {
        self.files.iter().map(|f| f.published).sum()
    }
    pub fn refused(&self) -> u64 {
        self.files.iter().map(|f| f.refused).sum()
    }
    pub fn failed(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }

    /// The per-file summary table printed at the end of a load.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<40} {:>9} {:>10} {:>10} {:>9}  status\n",
            "file", "kind", "read", "published", "refused"
        );
        for f in &self.files {
            let status = match (&f.error, f.already_loaded) {
                (Some(e), _) => format!("FAILED: {e}"),
                (None, true) => "already loaded (skipped; --force to publish again)".into(),
                (None, false) => "loaded".into(),
            };
            out.push_str(&format!(
                "{:<40} {:>9} {:>10} {:>10} {:>9}  {}\n",
                f.file,
                f.kind.map(|k| k.as_str()).unwrap_or("-"),
                f.read,
                f.published,
                f.refused,
                status
            ));
        }
        out.push_str(&format!(
            "load {}: {} records published, {} refused to the dead-letter topic, in {:.1}s\n",
            self.load_id,
            self.published(),
            self.refused(),
            self.seconds
        ));
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read input folder {path}: {source}")]
    Input {
        path: String,
        source: std::io::Error,
    },
    #[error("Kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("cannot create topic {topic}: {code}")]
    CreateTopic {
        topic: String,
        code: RDKafkaErrorCode,
    },
    #[error(transparent)]
    Warehouse(#[from] ff_warehouse::WarehouseError),
    #[error("PostgreSQL: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The files of `input` the loader reads, profiles first, each in name order.
pub fn input_files(input: &Path) -> Result<Vec<(PathBuf, FileKind)>, LoadError> {
    let err = |source| LoadError::Input {
        path: input.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    let mut stack = vec![input.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(err)? {
            let path = entry.map_err(err)?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(kind) = FileKind::of(&path) {
                files.push((path, kind));
            }
        }
    }
    files.sort_by(|a, b| (a.1 as u8, &a.0).cmp(&(b.1 as u8, &b.0)));
    Ok(files)
}

fn producer_config(cfg: &LoaderConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("enable.idempotence", cfg.idempotence.to_string())
        .set("acks", "all")
        .set("linger.ms", "10")
        .set("batch.num.messages", "10000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "500000")
        .set("message.timeout.ms", "60000");
    for (k, v) in &cfg.kafka_extra {
        c.set(k, v);
    }
    c
}

/// Creates the topics that do not exist yet (partitions and replication from the configuration).
pub async fn ensure_topics(cfg: &LoaderConfig) -> Result<(), LoadError> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers);
    for (k, v) in &cfg.kafka_extra {
        c.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> = c.create()?;
    let topics = [
        NewTopic::new(
            &cfg.topic_profils,
            cfg.partitions,
            TopicReplication::Fixed(cfg.replication),
        ),
        NewTopic::new(
            &cfg.topic_factures,
            cfg.partitions,
            TopicReplication::Fixed(cfg.replication),
        ),
        NewTopic::new(&cfg.topic_dlq, 1, TopicReplication::Fixed(cfg.replication)),
    ];
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&topics, &opts).await? {
        match result {
            Ok(t) => tracing::info!(topic = %t, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(LoadError::CreateTopic { topic, code }),
        }
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Names of known freelancers (lower-cased) -> their ids, for invoices that name the freelancer.
#[derive(Default)]
struct NameIndex(BTreeMap<String, BTreeSet<i64>>);

impl NameIndex {
    fn add(&mut self, nom: &str, id: i64) {
        self.0
            .entry(nom.trim().to_lowercase())
            .or_default()
            .insert(id);
    }
    /// The id when exactly one known freelancer has this name.
    fn resolve(&self, nom: &str) -> Option<i64> {
        match self.0.get(&nom.trim().to_lowercase()) {
            Some(ids) if ids.len() == 1 => ids.iter().next().copied(),
            _ => None,
        }
    }
}

fn profile_id(fields: &serde_json::Map<String, Value>) -> Option<i64> {
    fields
        .iter()
        .find(|(k, _)| profile_field(k) == Some(ProfileField::Id))
        .and_then(|(_, v)| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
}

struct Publisher<'a> {
    cfg: &'a LoaderConfig,
    producer: FutureProducer,
    load_id: String,
    in_flight: FuturesUnordered<DeliveryFuture>,
    started: Instant,
    published: u64,
}

impl Publisher<'_> {
    /// Queues one message (waiting for room in the producer queue when it is full).
    async fn send(
        &mut self,
        topic: &str,
        key: Option<String>,
        partition: i32,
        payload: Vec<u8>,
    ) -> Result<(), KafkaError> {
        loop {
            let mut record = FutureRecord::to(topic)
                .payload(&payload)
                .partition(partition);
            if let Some(k) = &key {
                record = record.key(k);
            }
            match self.producer.send_result(record) {
                Ok(f) => {
                    self.in_flight.push(f);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // make room: wait for some acknowledgements
                    self.drain(1000).await?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Publishes one record keyed by its freelancer id, on the partition of that id (0 without one).
    async fn publish(
        &mut self,
        topic: &str,
        id: Option<i64>,
        env: Envelope,
    ) -> Result<(), KafkaError> {
        if let Some(rate) = self.cfg.rate.filter(|r| *r > 0) {
            let due = self.started + Duration::from_secs_f64(self.published as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        self.published += 1;
        let partition = id
            .map(|id| self.cfg.partitioner.partition(id, self.cfg.partitions))
            .unwrap_or(0);
        self.send(topic, id.map(|i| i.to_string()), partition, env.to_bytes())
            .await
    }

    /// Waits until at most `keep` messages are unacknowledged.
    async fn drain(&mut self, keep: usize) -> Result<(), KafkaError> {
        while self.in_flight.len() > keep {
            match self.in_flight.next().await {
                Some(Ok(Ok(_))) => {}
                Some(Ok(Err((e, _)))) => return Err(e),
                Some(Err(_)) => return Err(KafkaError::Canceled),
                None => break,
            }
        }
        Ok(())
    }

    async fn dead_letter(
        &mut self,
        file: &str,
        line: u64,
        rule: ff_core::RuleCode,
        message: String,
        raw: String,
    ) -> Result<(), KafkaError> {
        tracing::warn!(file, line, rule = rule.as_str(), %message, "refused: sent to the dead-letter topic");
        let env = Envelope::Rejet {
            load_id: self.load_id.clone(),
            source: SourceRef {
                file: file.to_string(),
                line,
            },
            rule,
            message,
            raw,
        };
        let topic = self.cfg.topic_dlq.clone();
        self.send(&topic, None, 0, env.to_bytes()).await
    }
}

fn progress_bar(enabled: bool, len: u64, file: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:30} [{bar:30}] {pos}/{len} records ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(file.to_string());
    pb
}

/// Loads every file of `cfg.input` and returns the per-file summary. `load_id` names this load.
pub async fn load(cfg: &LoaderConfig, load_id: &str) -> Result<LoadReport, LoadError> {
    let started = Instant::now();
    let files = input_files(&cfg.input)?;
    ensure_topics(cfg).await?;
    let pool: Option<PgPool> = match &cfg.database_url {
        Some(url) => Some(ff_warehouse::connect(url, 2).await?),
        None => None,
    };
    let mut names = NameIndex::default();
    if let Some(pool) = &pool {
        let known: Vec<(i64, String)> = sqlx::query_as("SELECT id, nom FROM freelances")
            .fetch_all(pool)
            .await?;
        for (id, nom) in known {
            names.add(&nom, id);
        }
    }
    let mut publisher = Publisher {
        cfg,
        producer: producer_config(cfg).create()?,
        load_id: load_id.to_string(),
        in_flight: FuturesUnordered::new(),
        started: Instant::now(),
        published: 0,
    };
    let mut report = LoadReport {
        load_id: load_id.to_string(),
        ..Default::default()
    };
    let mut loaded_names = Vec::new();

    for (path, kind) in files {
        let name = path
            .strip_prefix(&cfg.input)
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut summary = FileSummary {
            file: name.clone(),
            kind: Some(kind),
            ..Default::default()
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                summary.error = Some(format!("cannot read {}: {e}", path.display()));
                report.files.push(summary);
                continue;
            }
        };
        let digest = sha256_hex(&bytes);
        if let (Some(pool), false) = (&pool, cfg.force) {
            let seen: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM fichiers_charges WHERE sha256 = $1)",
            )
            .bind(&digest)
            .fetch_one(pool)
            .await?;
            if seen {
                summary.already_loaded = true;
                tracing::info!(file = %name, "already loaded, skipped");
                report.files.push(summary);
                continue;
            }
        }
        let result = match kind {
            FileKind::Profils => {
                publish_profiles(&mut publisher, &name, &bytes, &mut names, &mut summary).await
            }
            FileKind::Factures => {
                publish_invoices(&mut publisher, &name, &bytes, &names, &mut summary).await
            }
        };
        // The file counts as loaded only once the broker acknowledged all of it.
        let result = match result {
            Ok(()) => publisher.drain(0).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                loaded_names.push(name.clone());
                if let Some(pool) = &pool {
                    sqlx::query(
                        "INSERT INTO fichiers_charges (sha256, file_name, kind, records, published, refused, load_id)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (sha256) DO UPDATE SET loaded_at = now(), load_id = EXCLUDED.load_id",
                    )
                    .bind(&digest)
                    .bind(&name)
                    .bind(kind.as_str())
                    .bind(summary.read as i64)
                    .bind(summary.published as i64)
                    .bind(summary.refused as i64)
                    .bind(load_id)
                    .execute(pool)
                    .await?;
                }
            }
            Err(e) => summary.error = Some(format!("not acknowledged by the broker: {e}")),
        }
        report.files.push(summary);
    }

    // End-of-load markers on every partition of both topics: pending invoices can be settled.
    if !loaded_names.is_empty() {
        let marker = Envelope::FinChargement {
            load_id: load_id.to_string(),
            files: loaded_names,
        }
        .to_bytes();
        for topic in [cfg.topic_profils.clone(), cfg.topic_factures.clone()] {
            for p in 0..cfg.partitions {
                publisher.send(&topic, None, p, marker.clone()).await?;
            }
        }
        publisher.drain(0).await?;
    }
    publisher.producer.flush(Duration::from_secs(30))?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn publish_profiles(
    p: &mut Publisher<'_>,
    file: &str,
    bytes: &[u8],
    names: &mut NameIndex,
    summary: &mut FileSummary,
) -> Result<(), KafkaError> {
    let ext_lines = file.ends_with(".jsonl") || file.ends_with(".ndjson");
    let records = json_records(bytes, ext_lines);
    let pb = progress_bar(p.cfg.progress, records.len() as u64, file);
    let topic = p.cfg.topic_profils.clone();
    for r in records {
        summary.read += 1;
        match r {
            Parsed::Record { line, fields } => {
                let id = profile_id(&fields);
                if let Ok(profile) = validate_profile(&fields) {
                    names.add(&profile.nom, profile.id);
                }
                let env = Envelope::Profil {
                    load_id: p.load_id.clone(),
                    source: SourceRef {
                        file: file.to_string(),
                        line,
                    },
                    record: fields,
                };
                p.publish(&topic, id, env).await?;
                summary.published += 1;
            }
            Parsed::Refused {
                line,
                rule,
                message,
                raw,
            } => {
                p.dead_letter(file, line, rule, message, raw).await?;
                summary.refused += 1;
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(())
}

async fn publish_invoices(
    p: &mut Publisher<'_>,
    file: &str,
    bytes: &[u8],
    names: &NameIndex,
    summary: &mut FileSummary,
) -> Result<(), KafkaError> {
    let records = match CsvRecords::new(bytes) {
        Ok(r) => r,
        Err(message) => {
            summary.read += 1;
            summary.refused += 1;
            let raw = String::from_utf8_lossy(bytes).into_owned();
            return p
                .dead_letter(file, 1, ff_core::RuleCode::InvalidCsv, message, raw)
                .await;
        }
    };
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let pb = progress_bar(p.cfg.progress, lines.saturating_sub(1).max(1), file);
    let topic = p.cfg.topic_factures.clone();
    for r in records {
        summary.read += 1;
        match r {
            Parsed::Record { line, fields } => {
                let id = match invoice_freelance_ref(&fields) {
                    Some(FreelanceRef::Id(id)) => Some(id),
                    Some(FreelanceRef::Name(n)) => names.resolve(&n),
                    None => None,
                };
                let env = Envelope::Facture {
                    load_id: p.load_id.clone(),
                    source: SourceRef {
                        file: file.to_string(),
                        line,
                    },
                    record: fields,
                    freelance_id: id,
                };
                p.publish(&topic, id, env).await?;
                summary.published += 1;
            }
            Parsed::Refused {
                line,
                rule,
                message,
                raw,
            } => {
                p.dead_letter(file, line, rule, message, raw).await?;
                summary.refused += 1;
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kinds() {
        assert_eq!(
            FileKind::of(Path::new("a/profils.json")),
            Some(FileKind::Profils)
        );
        assert_eq!(FileKind::of(Path::new("p.JSONL")), Some(FileKind::Profils));
        assert_eq!(
            FileKind::of(Path::new("factures_1.csv")),
            Some(FileKind::Factures)
        );
        assert_eq!(FileKind::of(Path::new("_manifest.json")), None);
        assert_eq!(FileKind::of(Path::new("notes.txt")), None);
    }

    #[test]
    fn names_resolve_only_when_unique() {
        let mut n = NameIndex::default();
        n.add("Dupont", 1);
        n.add("Martin", 2);
        n.add("martin ", 3);
        n.add("Durand", 4);
        n.add("Durand", 4);
        assert_eq!(n.resolve(" dupont"), Some(1));
        assert_eq!(n.resolve("MARTIN"), None);
        assert_eq!(n.resolve("Durand"), Some(4));
        assert_eq!(n.resolve("Inconnu"), None);
    }

    #[test]
    fn profile_ids_from_aliases() {
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            profile_id(&m(serde_json::json!({"freelance_id": "245"}))),
            Some(245)
        );
        assert_eq!(profile_id(&m(serde_json::json!({"id": 7}))), Some(7));
        assert_eq!(profile_id(&m(serde_json::json!({"nom": "x"}))), None);
    }
}
