//! Test kit of the FreelanceFlow end-to-end tests: a fresh warehouse database per test, unique Kafka
//! topic names, and the `freelanceflow` binary run as real processes. The tests in `tests/` need the
//! local stack (`scripts/stack.sh up`): a real PostgreSQL and the tansu Kafka-protocol broker.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection, PgPool};

/// Admin URL of the test PostgreSQL (a role allowed to create databases).
pub fn admin_url() -> String {
    std::env::var("FF_ADMIN_DATABASE_URL").unwrap_or_else(|_| {
        "postgres://freelanceflow:freelanceflow@127.0.0.1:55432/postgres".to_string()
    })
}

pub fn brokers() -> String {
    std::env::var("FF_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:59092".to_string())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this test run: `prefix_<pid>_<n>_<millis>`.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 100_000_000)
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{ms}", std::process::id())
}

/// Creates an empty database, applies the migrations and returns its URL and a pool.
pub async fn fresh_warehouse(prefix: &str) -> (String, PgPool) {
    let admin = admin_url();
    let name = unique(prefix).to_lowercase();
    let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("cannot reach the test PostgreSQL at {admin}: {e}. Start it with `scripts/stack.sh up`.")
    });
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').expect("URL with a database").0;
    let url = format!("{base}/{name}");
    ff_warehouse::migrate(&url).await.expect("migrations apply");
    let pool = ff_warehouse::connect(&url, 5).await.expect("connect");
    (url, pool)
}

/// The `freelanceflow` binary built next to the tests.
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("FF_BIN") {
        return PathBuf::from(p);
    }
    let mut p = std::env::current_exe().expect("test binary path");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("freelanceflow")
}

/// A running `freelanceflow` process, killed when dropped.
pub struct Proc {
    pub name: String,
    pub child: Child,
}

impl Proc {
    pub fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let log = std::env::temp_dir().join(format!("{}.log", unique(name)));
        let file = std::fs::File::create(&log).expect("log file");
        eprintln!("{name}: log in {}", log.display());
        let child = Command::new(binary())
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::from(file.try_clone().expect("log")))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
        Proc {
            name: name.to_string(),
            child,
        }
    }

    /// SIGKILL, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `freelanceflow args...` to completion and returns (success, stdout, stderr).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary().display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One isolated pipeline on the shared stack: its own warehouse database, topics, consumer group and
/// master port, so tests run in parallel.
pub struct Pipeline {
    pub database_url: String,
    pub pool: PgPool,
    pub master_url: String,
    env: Vec<(String, String)>,
}

impl Pipeline {
    pub async fn new(prefix: &str) -> Pipeline {
        let (database_url, pool) = fresh_warehouse(prefix).await;
        let tag = unique(prefix);
        let listen = format!("127.0.0.1:{}", free_port());
        let env = vec![
            ("FF_DATABASE_URL".to_string(), database_url.clone()),
            ("FF_KAFKA_BROKERS".to_string(), brokers()),
            ("FF_TOPIC_PROFILS".to_string(), format!("{tag}_profils")),
            ("FF_TOPIC_FACTURES".to_string(), format!("{tag}_factures")),
            ("FF_TOPIC_DLQ".to_string(), format!("{tag}_dlq")),
            ("FF_GROUP".to_string(), format!("{tag}_workers")),
            ("FF_MASTER_LISTEN".to_string(), listen.clone()),
            ("FF_LINGER_MS".to_string(), "100".to_string()),
            ("RUST_LOG".to_string(), "info,sqlx=warn".to_string()),
        ];
        Pipeline {
            database_url,
            pool,
            master_url: format!("http://{listen}"),
            env,
        }
    }

    pub fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn master(&self) -> Proc {
        Proc::spawn("master", &["master", "--t3-interval", "2"], &self.env())
    }

    pub fn worker(&self, id: &str) -> Proc {
        Proc::spawn(id, &["worker", "--id", id], &self.env())
    }

    /// A worker that also serves /metrics and /healthz on `listen`.
    pub fn worker_with_metrics(&self, id: &str, listen: &str) -> Proc {
        Proc::spawn(
            id,
            &["worker", "--id", id, "--metrics-listen", listen],
            &self.env(),
        )
    }

    /// Runs the loader on `dir` (extra arguments appended); panics with its output if it fails.
    pub fn load(&self, dir: &std::path::Path, extra: &[&str]) -> String {
        let mut args = vec!["loader", "--input", dir.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        let (ok, out, err) = run(&args, &self.env());
        assert!(ok, "loader failed:\n{out}\n{err}");
        out
    }

    /// Waits until every published record is committed, then computes T3.
    pub fn wait(&self, timeout_s: u64) {
        let t = timeout_s.to_string();
        let (ok, out, err) = run(&["wait", "--timeout", &t], &self.env());
        assert!(ok, "wait failed:\n{out}\n{err}");
    }

    /// The warehouse holds exactly the generator's distinct valid freelancers and invoices, and the
    /// total amount it planted.
    pub async fn assert_ground_truth(&self, e: &ff_datagen::Expected) {
        let got = self
            .scalar(
                "SELECT (SELECT count(*) FROM freelances) || ' ' || (SELECT count(*) FROM factures)
                        || ' ' || coalesce((SELECT (sum(montant) * 100)::bigint FROM factures), 0)",
            )
            .await;
        let want = format!(
            "{} {} {}",
            e.distinct_valid_freelancers, e.distinct_valid_invoices, e.total_montant_cents
        );
        assert_eq!(got, want, "freelancers, invoices, total cents");
    }

    pub async fn scalar(&self, sql: &str) -> String {
        let v: Option<String> = sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        v.unwrap_or_default()
    }
}
