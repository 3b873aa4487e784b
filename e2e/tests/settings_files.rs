//! Settings read from files (mounted Kubernetes Secrets): `FF_DATABASE_URL_FILE`.

use std::process::Command;

use ff_e2e::{binary, fresh_warehouse};

/// Runs the binary without the test environment's own `FF_DATABASE_URL`.
fn kpis(env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(["kpis", "--json"])
        .env_remove("FF_DATABASE_URL")
        .env_remove("FF_DATABASE_URL_FILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn the_database_url_can_come_from_a_file() {
    let (url, pool) = fresh_warehouse("urlfile").await;
    // a row only this database has
    sqlx::query("INSERT INTO indicateurs (kpi, period, dimension, value) VALUES ('ca_total', 'from-the-file', '', 4242)")
        .execute(&pool)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    // a Secret's file may end with a newline
    std::fs::write(&file, format!("{url}\n")).unwrap();
    let (ok, out, err) = kpis(&[("FF_DATABASE_URL_FILE", file.to_str().unwrap())]);
    assert!(ok, "kpis with FF_DATABASE_URL_FILE failed: {err}");
    assert!(
        out.contains("from-the-file") && out.contains("4242"),
        "the file's database was not read: {out}"
    );

    // the variable itself wins over the file
    let (ok, _, err) = kpis(&[
        ("FF_DATABASE_URL", url.as_str()),
        ("FF_DATABASE_URL_FILE", "/nonexistent/url"),
    ]);
    assert!(ok, "{err}");

    let (ok, _, err) = kpis(&[("FF_DATABASE_URL_FILE", "/nonexistent/url")]);
    assert!(!ok);
    assert!(
        err.contains("FF_DATABASE_URL_FILE=/nonexistent/url") && err.contains("No such file"),
        "{err}"
    );
}
