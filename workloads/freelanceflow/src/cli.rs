//! Command-line interface: every role's options, with defaults that work on the local stack.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ff_core::Partitioner;
use ff_processing::batch::Topics;
use ff_processing::kafka::{parse_kv, KafkaSettings};
use ff_processing::t3::AsOf;

const DEFAULT_DB: &str = "postgres://freelanceflow:freelanceflow@127.0.0.1:55432/freelances_db";

#[derive(Parser, Debug)]
#[command(
    name = "freelanceflow",
    version,
    about = "FreelanceFlow: freelancer profiles and invoices, from files through Kafka to a PostgreSQL warehouse.",
    long_about = "FreelanceFlow: freelancer profiles (JSON) and invoices (CSV) are published to Kafka by the loader, \
cleaned (T1) and aggregated per freelancer (T2) by the workers on DataFusion micro-batches, committed to the \
PostgreSQL warehouse in one fenced transaction per batch, and summed up (T3) by the master.\n\n\
Typical local run (see the README): `freelanceflow migrate`, `freelanceflow generate --out data`, \
`freelanceflow master &`, `freelanceflow worker --id worker-1 &`, `freelanceflow worker --id worker-2 &`, \
`freelanceflow loader --input data`, `freelanceflow wait`, `freelanceflow kpis`.\n\n\
Every option can also be given by its environment variable (shown in each subcommand's --help)."
)]
pub struct Cli {
    /// Log format: human-readable text or JSON lines.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "FF_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,datafusion=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a realistic, messy, seeded data set (profiles JSON, invoices CSV) with a manifest.
    Generate(GenerateArgs),
    /// Create the warehouse database if needed and apply the migrations of `migrations/`.
    Migrate(DbArgs),
    /// Publish the profile and invoice files of a folder to Kafka (one-shot, or --watch).
    Loader(LoaderArgs),
    /// Run a worker: consume micro-batches, apply T1 and T2, commit each batch in one transaction.
    Worker(WorkerArgs),
    /// Run the master: partition ownership and liveness API, dead letters, T3 indicators.
    Master(MasterArgs),
    /// Wait until the workers and the master have consumed everything published, then compute T3.
    Wait(WaitArgs),
    /// Print the indicators of the warehouse.
    Kpis(KpisArgs),
    /// Serve the dashboards (Financier, Ressources, Temps réel) and their JSON API.
    Dashboard(DashboardArgs),
    /// Print a users-file line `NAME:argon2-hash` for the dashboards; the password is read from stdin.
    DashboardUser(DashboardUserArgs),
}

#[derive(Args, Debug, Clone)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to serve the dashboards on.
    #[arg(long, env = "FF_DASHBOARD_LISTEN", default_value = "127.0.0.1:58090")]
    pub listen: SocketAddr,
    /// Users file: one `user:argon2-hash` per line (see `freelanceflow dashboard-user`), e.g. a mounted Secret.
    #[arg(long, env = "FF_DASHBOARD_USERS")]
    pub users: Option<PathBuf>,
    /// Trust this request header as the user name (set by an OIDC proxy such as oauth2-proxy in front).
    #[arg(long, env = "FF_DASHBOARD_AUTH_HEADER")]
    pub auth_header: Option<String>,
    /// The master's API, for the status light.
    #[arg(long, env = "FF_MASTER_URL", default_value = "http://127.0.0.1:58080")]
    pub master_url: String,
    /// Database role for every query (read-only grants); empty to keep the login role.
    #[arg(
        long,
        env = "FF_DASHBOARD_DB_ROLE",
        default_value = "freelanceflow_reader"
    )]
    pub db_role: String,
    /// Seconds without heartbeat after which a worker counts as dead.
    #[arg(long, default_value_t = 10)]
    pub worker_timeout: u64,
    /// Consumer lag (records) above which the status light turns orange.
    #[arg(long, default_value_t = 50_000)]
    pub lag_warning: i64,
}

#[derive(Args, Debug, Clone)]
pub struct DashboardUserArgs {
    /// The user name.
    pub name: String,
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// PostgreSQL URL of the warehouse.
    #[arg(long, env = "FF_DATABASE_URL", default_value = DEFAULT_DB)]
    pub database_url: String,
}

#[derive(Args, Debug, Clone)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "FF_KAFKA_BROKERS", default_value = "127.0.0.1:59092")]
    pub brokers: String,
    /// Extra librdkafka setting, `key=value` (repeatable).
    #[arg(long = "kafka-opt", value_parser = parse_kv)]
    pub kafka_opts: Vec<(String, String)>,
    /// Group session timeout in ms (the local broker completes joins after it: keep it short there).
    #[arg(long, env = "FF_SESSION_TIMEOUT_MS", default_value_t = 6000)]
    pub session_timeout_ms: u32,
}

impl KafkaArgs {
    fn settings(&self) -> KafkaSettings {
        KafkaSettings {
            brokers: self.brokers.clone(),
            session_timeout_ms: self.session_timeout_ms,
            extra: self.kafka_opts.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct TopicArgs {
    #[arg(long, env = "FF_TOPIC_PROFILS", default_value = "profils")]
    pub topic_profils: String,
    #[arg(long, env = "FF_TOPIC_FACTURES", default_value = "factures")]
    pub topic_factures: String,
    /// Dead-letter topic: records the loader could not even parse.
    #[arg(long, env = "FF_TOPIC_DLQ", default_value = "freelanceflow-dlq")]
    pub topic_dlq: String,
    /// Consumer group of the workers.
    #[arg(long, env = "FF_GROUP", default_value = "freelanceflow-workers")]
    pub group: String,
    /// Partitions per topic.
    #[arg(long, env = "FF_PARTITIONS", default_value_t = 2)]
    pub partitions: i32,
    /// `range` (ids 1-500 -> 0, 501-1000 -> 1, above -> last), `range:B1,B2,...` (inclusive upper
    /// bounds) or `hash` (Kafka's murmur2 of the id).
    #[arg(long, env = "FF_PARTITIONER", default_value = "range:500,1000")]
    pub partitioner: Partitioner,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Output folder.
    #[arg(long, default_value = "data")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Freelancers with ids 1..=N (a few more above the range are added).
    #[arg(long, default_value_t = 1000)]
    pub freelancers: u32,
    /// Invoice lines in total (valid, invalid and duplicates).
    #[arg(long, default_value_t = 30_000)]
    pub invoices: u64,
    /// Months of invoices, ending with --end-month.
    #[arg(long, default_value_t = 26)]
    pub months: u32,
    /// First day of the last month of invoices.
    #[arg(long, default_value = "2025-10-01")]
    pub end_month: NaiveDate,
    /// Share of invalid records.
    #[arg(long, default_value_t = 0.03)]
    pub invalid_ratio: f64,
    /// Share of duplicate invoice lines.
    #[arg(long, default_value_t = 0.01)]
    pub duplicate_ratio: f64,
    /// Number of invoice CSV files.
    #[arg(long, default_value_t = 4)]
    pub files: u32,
    /// Write the original design's exact sample records (the `Dupont` lines) instead.
    #[arg(long)]
    pub sample: bool,
}

#[derive(Args, Debug)]
pub struct LoaderArgs {
    /// Folder of input files: *.json / *.jsonl profiles, *.csv invoices (files starting with `_` are skipped).
    #[arg(long, env = "FF_INPUT")]
    pub input: PathBuf,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    /// Replication factor of the topics the loader creates.
    #[arg(long, default_value_t = 1)]
    pub replication: i32,
    /// Warehouse URL: ledger of loaded files and names of known freelancers. `none` disables both.
    #[arg(long, env = "FF_DATABASE_URL", default_value = DEFAULT_DB)]
    pub database_url: String,
    /// Publish files again even if the ledger says they were loaded (downstream stays unchanged).
    #[arg(long)]
    pub force: bool,
    /// Disable the idempotent producer (for brokers that do not support it).
    #[arg(long)]
    pub no_idempotence: bool,
    /// Keep watching the folder and load new files as they arrive.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between two scans in --watch mode (86400 for a daily load).
    #[arg(long, default_value_t = 60)]
    pub interval: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Publish at most this many records per second (a steady feed); unlimited by default.
    #[arg(long)]
    pub rate: Option<u32>,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Worker id (stable across restarts: the StatefulSet pod name). Default: worker-<host>-<pid>.
    #[arg(long, env = "FF_WORKER_ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Records per micro-batch at most.
    #[arg(long, env = "FF_MAX_BATCH", default_value_t = 20_000)]
    pub max_batch: usize,
    /// Milliseconds a micro-batch may wait for more records.
    #[arg(long, env = "FF_LINGER_MS", default_value_t = 200)]
    pub linger_ms: u64,
    /// Exit after this many seconds without new records (batch runs). Runs forever by default.
    #[arg(long)]
    pub exit_when_idle: Option<u64>,
    /// Serve /metrics (committed records and batches) and /healthz on this address, e.g. 0.0.0.0:8080.
    #[arg(long, env = "FF_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

#[derive(Args, Debug)]
pub struct MasterArgs {
    /// HTTP address: /healthz, /assignment, /locate/{freelance_id}, /kpis.
    #[arg(long, env = "FF_MASTER_LISTEN", default_value = "127.0.0.1:58080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Reference date of the indicators: `latest` (latest valid invoice date), `today` or YYYY-MM-DD.
    #[arg(long, env = "FF_AS_OF", default_value = "latest")]
    pub as_of: AsOf,
    /// Seconds between two T3 runs when no commit triggers one.
    #[arg(long, default_value_t = 30)]
    pub t3_interval: u64,
    /// Seconds between two T3 runs at least, while commits keep coming (T3 shares the cores with the
    /// workers during bulk loads).
    #[arg(long, default_value_t = 5)]
    pub t3_min_interval: u64,
    /// Seconds without heartbeat after which a worker is reported dead.
    #[arg(long, default_value_t = 10)]
    pub worker_timeout: u64,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    #[arg(long, env = "FF_AS_OF", default_value = "latest")]
    pub as_of: AsOf,
}

#[derive(Args, Debug)]
pub struct KpisArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn stop_signal() -> (Arc<AtomicBool>, tokio::sync::watch::Receiver<bool>) {
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let f = flag.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping");
        f.store(true, Ordering::Relaxed);
        let _ = tx.send(true);
    });
    (flag, rx)
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Generate(a) => generate(a),
        Command::Migrate(a) => {
            let v = ff_warehouse::migrate(&a.database_url).await?;
            println!(
                "warehouse {} migrated: schema version {v}",
                ff_warehouse::redact(&a.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Loader(a) => loader(a).await,
        Command::Worker(a) => worker(a).await,
        Command::Master(a) => master(a).await,
        Command::Wait(a) => wait(a).await,
        Command::Kpis(a) => kpis(a).await,
        Command::Dashboard(a) => dashboard(a).await,
        Command::DashboardUser(a) => dashboard_user(a),
    }
}

async fn dashboard(a: DashboardArgs) -> anyhow::Result<ExitCode> {
    let cfg = ff_dashboard::DashboardConfig {
        listen: a.listen,
        database_url: a.db.database_url,
        users_file: a.users,
        auth_header: a.auth_header.filter(|h| !h.trim().is_empty()),
        master_url: a.master_url,
        db_role: Some(a.db_role).filter(|r| !r.trim().is_empty()),
        worker_timeout: Duration::from_secs(a.worker_timeout),
        lag_warning: a.lag_warning,
    };
    let (_, stop) = stop_signal();
    ff_dashboard::serve(cfg, stop).await?;
    Ok(ExitCode::SUCCESS)
}

fn dashboard_user(a: DashboardUserArgs) -> anyhow::Result<ExitCode> {
    let name = a.name.trim();
    anyhow::ensure!(
        !name.is_empty() && !name.contains(':'),
        "the user name must be non-empty and without `:`"
    );
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on stdin");
    println!("{name}:{}", ff_dashboard::auth::hash_password(password));
    Ok(ExitCode::SUCCESS)
}

fn generate(a: GenerateArgs) -> anyhow::Result<ExitCode> {
    if a.sample {
        ff_datagen::write_sample(&a.out)?;
        println!("sample records written to {}/sample", a.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = ff_datagen::GenConfig {
        seed: a.seed,
        freelancers: a.freelancers,
        months: a.months,
        end_month: a.end_month,
        invoices: a.invoices,
        invalid_ratio: a.invalid_ratio,
        duplicate_ratio: a.duplicate_ratio,
        invoice_files: a.files,
        ..Default::default()
    };
    let m = ff_datagen::generate(&cfg, &a.out)
        .with_context(|| format!("generating into {}", a.out.display()))?;
    println!(
        "generated {} files in {}: {} distinct valid freelancers, {} distinct valid invoices (manifest: {}/_manifest.json)",
        m.files.len(),
        a.out.display(),
        m.expected.distinct_valid_freelancers,
        m.expected.distinct_valid_invoices,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn load_id() -> String {
    format!(
        "load-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

async fn loader(a: LoaderArgs) -> anyhow::Result<ExitCode> {
    if !a.input.is_dir() {
        anyhow::bail!("--input {}: not a folder", a.input.display());
    }
    let cfg = ff_loader::LoaderConfig {
        input: a.input.clone(),
        brokers: a.kafka.brokers.clone(),
        kafka_extra: a.kafka.kafka_opts.clone(),
        topic_profils: a.topics.topic_profils.clone(),
        topic_factures: a.topics.topic_factures.clone(),
        topic_dlq: a.topics.topic_dlq.clone(),
        partitions: a.topics.partitions,
        replication: a.replication,
        partitioner: a.topics.partitioner.clone(),
        database_url: (a.database_url != "none").then(|| a.database_url.clone()),
        force: a.force,
        idempotence: !a.no_idempotence,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        rate: a.rate,
    };
    let (stop, _) = stop_signal();
    loop {
        let report = ff_loader::load(&cfg, &load_id()).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.table());
        }
        if !a.watch {
            return Ok(if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        for _ in 0..a.interval * 10 {
            if stop.load(Ordering::Relaxed) {
                return Ok(ExitCode::SUCCESS);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn topics(t: &TopicArgs) -> Topics {
    Topics {
        group: t.group.clone(),
        profils: t.topic_profils.clone(),
        factures: t.topic_factures.clone(),
    }
}

async fn worker(a: WorkerArgs) -> anyhow::Result<ExitCode> {
    let id = a.id.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("worker-{}-{}", host.trim(), std::process::id())
    });
    let cfg = ff_processing::worker::WorkerConfig {
        worker_id: id,
        kafka: a.kafka.settings(),
        topics: topics(&a.topics),
        database_url: a.db.database_url.clone(),
        max_batch: a.max_batch,
        linger: Duration::from_millis(a.linger_ms),
        exit_when_idle: a.exit_when_idle.map(Duration::from_secs),
    };
    if let Some(listen) = a.metrics_listen {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (--metrics-listen): {e}"))?;
        tokio::spawn(ff_processing::worker::serve_metrics(listener));
    }
    let (stop, _) = stop_signal();
    let rt = tokio::runtime::Handle::current();
    let handle = std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || ff_processing::worker::run(cfg, rt, stop))?;
    let result = tokio::task::spawn_blocking(move || handle.join())
        .await?
        .map_err(|_| anyhow::anyhow!("worker thread panicked"))?;
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn master(a: MasterArgs) -> anyhow::Result<ExitCode> {
    use ff_processing::master::{self, MasterConfig};
    let cfg = Arc::new(MasterConfig {
        database_url: a.db.database_url.clone(),
        listen: a.listen,
        group: a.topics.group.clone(),
        topic_profils: a.topics.topic_profils.clone(),
        topic_factures: a.topics.topic_factures.clone(),
        partitions: a.topics.partitions,
        partitioner: a.topics.partitioner.clone(),
        as_of: a.as_of,
        t3_interval: Duration::from_secs(a.t3_interval),
        t3_min_interval: Duration::from_secs(a.t3_min_interval),
        worker_timeout: Duration::from_secs(a.worker_timeout),
        kafka: a.kafka.settings(),
    });
    let pool = ff_warehouse::connect(&cfg.database_url, 5).await?;
    let (_, stop) = stop_signal();
    let t3_ok = Arc::new(AtomicBool::new(false));
    // Run in this task: the batch commit future is not `Send` (sqlx executor lifetimes).
    let t3 = master::t3_loop(cfg.clone(), t3_ok.clone(), stop.clone());
    let dlq = ff_processing::dlq::run(
        a.kafka.settings(),
        a.topics.topic_dlq.clone(),
        cfg.database_url.clone(),
        stop.clone(),
    );
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    tracing::info!(listen = %cfg.listen, "master API listening");
    let mut stop_http = stop.clone();
    let lag = master::LagSnapshot::default();
    let lag_loop = master::lag_loop(cfg.clone(), pool.clone(), lag.clone(), stop.clone());
    let server = axum::serve(listener, master::router(cfg.clone(), pool, t3_ok, lag))
        .with_graceful_shutdown(async move {
            let _ = stop_http.changed().await;
        });
    tokio::select! {
        r = server => r?,
        r = t3 => r?,
        r = dlq => r?,
        r = lag_loop => r?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait(a: WaitArgs) -> anyhow::Result<ExitCode> {
    let pool = ff_warehouse::connect(&a.db.database_url, 2).await?;
    // one broker client for every poll
    let kafka = ff_processing::lag::client(&a.kafka.settings())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(a.timeout);
    loop {
        let mut lags = ff_processing::lag::lag(
            &kafka,
            &pool,
            &a.topics.group,
            &[&a.topics.topic_profils, &a.topics.topic_factures],
        )
        .await?;
        lags.extend(
            ff_processing::lag::lag(
                &kafka,
                &pool,
                ff_processing::dlq::DLQ_GROUP,
                &[&a.topics.topic_dlq],
            )
            .await?,
        );
        let total: i64 = lags.iter().map(|l| l.lag).sum();
        if total == 0 {
            break;
        }
        if std::time::Instant::now() > deadline {
            for l in lags.iter().filter(|l| l.lag > 0) {
                eprintln!(
                    "{}[{}] group {}: lag {}",
                    l.topic, l.partition, l.group, l.lag
                );
            }
            anyhow::bail!("still {total} records to consume after {}s", a.timeout);
        }
        tracing::info!(lag = total, "waiting for the workers");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut conn = pool.acquire().await?;
    let (as_of, rows) = ff_processing::t3::compute(&mut conn, a.as_of).await?;
    println!("everything consumed; indicators computed at as_of {as_of} ({rows} rows)");
    Ok(ExitCode::SUCCESS)
}

async fn kpis(a: KpisArgs) -> anyhow::Result<ExitCode> {
    let pool = ff_warehouse::connect(&a.db.database_url, 1).await?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT kpi, period, value::text FROM indicateurs
         WHERE dimension = '' AND (period !~ '^\\d{4}-\\d{2}$')
         ORDER BY kpi, period",
    )
    .fetch_all(&pool)
    .await?;
    let top: Vec<(String, String)> = sqlx::query_as(
        "SELECT dimension, value::text FROM indicateurs WHERE kpi = 'top_competences_rang' ORDER BY value LIMIT 5",
    )
    .fetch_all(&pool)
    .await?;
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(k, p, v)| serde_json::json!({"kpi": k, "period": p, "value": v}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no indicators yet: run the master (or `freelanceflow wait`) after a load");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<28} {:<20} {:>20}", "indicator", "period", "value");
    for (k, p, v) in rows {
        let v = v.parse::<f64>().map(|f| format!("{f:.2}")).unwrap_or(v);
        println!("{k:<28} {p:<20} {v:>20}");
    }
    if !top.is_empty() {
        println!(
            "top skills (12 months): {}",
            top.iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
