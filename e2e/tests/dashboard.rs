//! The dashboards against the real pipeline: every panel's numbers equal an independent SQL query over
//! the base tables (not the views the app reads), authentication holds, filters change the numbers, the
//! exports are well formed, and a new invoice reaches Temps réel through the pushed events.

use std::time::{Duration, Instant};

use ff_e2e::{free_port, Pipeline, Proc};
use serde_json::Value;

struct Dashboard {
    _proc: Proc,
    url: String,
    cookie: String,
    http: reqwest::Client,
}

impl Dashboard {
    async fn start(p: &Pipeline, dir: &std::path::Path) -> Dashboard {
        // a users file as an operator would write it, with the binary's own helper
        let (ok, line, err) = run_with_stdin(&["dashboard-user", "alice"], "correct horse\n");
        assert!(ok, "dashboard-user failed: {err}");
        let users = dir.join("users.txt");
        std::fs::write(&users, format!("# test users\n{line}")).unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut env = p.env();
        env.push(("FF_MASTER_URL", p.master_url.as_str()));
        let proc = Proc::spawn(
            "dashboard",
            &[
                "dashboard",
                "--listen",
                &listen,
                "--users",
                users.to_str().unwrap(),
            ],
            &env,
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let url = format!("http://{listen}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{url}/healthz")).send().await.is_err() {
            assert!(Instant::now() < deadline, "the dashboard did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Dashboard {
            _proc: proc,
            url,
            cookie: String::new(),
            http,
        }
    }

    async fn login(&mut self, user: &str, password: &str) -> reqwest::Response {
        let body = format!(
            "user={user}&password={}&next=%2Fressources",
            password.replace(' ', "+")
        );
        let r = self
            .http
            .post(format!("{}/login", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            self.cookie = c.to_str().unwrap().split(';').next().unwrap().to_string();
        }
        r
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }
}

fn run_with_stdin(args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(ff_e2e::binary())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `[[a, b, ...], ...]` of an independent query, every column as text.
async fn rows(p: &Pipeline, sql: &str) -> Vec<Vec<String>> {
    sqlx::query_scalar::<_, Vec<String>>(sql)
        .fetch_all(&p.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn col(v: &Value, keys: &[&str]) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            keys.iter()
                .map(|k| match &r[*k] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A pipeline (master, two workers) that has committed a generated data set of 6,000 invoice lines.
async fn loaded_pipeline(prefix: &str) -> (Pipeline, [Proc; 3], tempfile::TempDir) {
    let p = Pipeline::new(prefix).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = ff_datagen::GenConfig {
        invoices: 6_000,
        ..Default::default()
    };
    ff_datagen::generate(&cfg, &data).unwrap();
    let procs = [p.master(), p.worker("worker-1"), p.worker("worker-2")];
    p.load(&data, &[]);
    p.wait(300);
    (p, procs, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_panel_equals_independent_sql_and_new_invoices_are_pushed_live() {
    let (p, _procs, dir) = loaded_pipeline("dash").await;
    let mut d = Dashboard::start(&p, dir.path()).await;

    // --- authentication
    assert_eq!(d.get("/api/financier").await.status(), 401);
    let r = d.get("/financier").await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=/financier"));
    assert_eq!(d.login("alice", "wrong").await.status(), 401);
    assert!(d.cookie.is_empty());
    let r = d.login("alice", "correct horse").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ressources");
    assert!(d.cookie.starts_with("ff_session="));

    // --- Financier, default period: the 12 months ending with the month of the latest invoice
    let f = d.json("/api/financier").await;
    let win = "(SELECT (date_trunc('month', max(date)) - interval '11 months')::date AS lo,
                      (date_trunc('month', max(date)) + interval '1 month')::date AS hi FROM factures) w";
    let top = rows(
        &p,
        &format!(
            "SELECT array[x.freelance_id::text, sum(x.montant)::text] FROM factures x, {win}
         WHERE x.date >= w.lo AND x.date < w.hi GROUP BY x.freelance_id
         ORDER BY sum(x.montant) DESC, x.freelance_id LIMIT 10"
        ),
    )
    .await;
    assert_eq!(top.len(), 10);
    assert_eq!(col(&f["top10"], &["freelance_id", "ca"]), top);
    let months = rows(&p, &format!(
        "SELECT array[to_char(m, 'YYYY-MM'), coalesce(sum(x.montant), 0)::numeric(16,2)::text, count(x.*)::text]
         FROM {win}, generate_series(w.lo, w.hi - 1, interval '1 month') m
         LEFT JOIN factures x ON date_trunc('month', x.date) = m GROUP BY m ORDER BY m")).await;
    assert_eq!(months.len(), 12);
    assert_eq!(
        col(&f["revenus_mensuels"], &["periode", "ca", "nb_factures"]),
        months
    );
    let total = p.scalar(&format!(
        "SELECT sum(x.montant)::numeric(16,2)::text FROM factures x, {win} WHERE x.date >= w.lo AND x.date < w.hi")).await;
    assert_eq!(f["ca_total"], total.as_str());
    assert_eq!(
        f["tjm_moyen"],
        p.scalar("SELECT round(avg(tarif_jour), 2)::text FROM freelances")
            .await
            .as_str()
    );

    // a skill filter and an explicit period change the numbers, and still match
    let skill = p.scalar(
        "SELECT s FROM freelances, unnest(competences) s GROUP BY s ORDER BY count(*) DESC, s LIMIT 1").await;
    let q = format!(
        "/api/financier?from=2024-01&to=2024-06&competence={}",
        skill.to_uppercase()
    );
    let g = d.json(&q).await;
    let has = format!("EXISTS (SELECT 1 FROM freelances f, unnest(f.competences) s WHERE f.id = x.freelance_id AND lower(s) = lower('{skill}'))");
    let top = rows(
        &p,
        &format!(
            "SELECT array[x.freelance_id::text, sum(x.montant)::text] FROM factures x
         WHERE x.date >= '2024-01-01' AND x.date < '2024-07-01' AND {has}
         GROUP BY x.freelance_id ORDER BY sum(x.montant) DESC, x.freelance_id LIMIT 10"
        ),
    )
    .await;
    assert_eq!(col(&g["top10"], &["freelance_id", "ca"]), top);
    let total = p.scalar(&format!(
        "SELECT sum(montant)::numeric(16,2)::text FROM factures x WHERE x.date >= '2024-01-01' AND x.date < '2024-07-01' AND {has}")).await;
    assert_eq!(g["ca_total"], total.as_str());
    assert_ne!(g["ca_total"], f["ca_total"]);
    assert_eq!(g["revenus_mensuels"].as_array().unwrap().len(), 6);
    assert_eq!(g["tjm_moyen"], p.scalar(&format!(
        "SELECT round(avg(tarif_jour), 2)::text FROM freelances f WHERE EXISTS (SELECT 1 FROM unnest(f.competences) s WHERE lower(s) = lower('{skill}'))")).await.as_str());

    // bad filters are refused with a clear message, not run
    let r = d.get("/api/financier?from=2024-13").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("YYYY-MM"));
    // and the page says it too, not just the status
    let r = d.get("/financier?from=2024-13").await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("from must be a month written YYYY-MM"));

    // --- Ressources: "en mission" recomputed from the contract's definition
    let mission = "(SELECT f.id, f.competences, f.tarif_jour, coalesce(f.statut = 'en_mission', EXISTS (
                       SELECT 1 FROM factures x WHERE x.freelance_id = f.id
                       AND x.date BETWEEN (SELECT max(date) FROM factures) - 29 AND (SELECT max(date) FROM factures))) AS m
                    FROM freelances f) mm";
    let r = d.json("/api/ressources").await;
    let want = rows(&p, &format!(
        "SELECT array[count(*)::text, count(*) FILTER (WHERE m)::text, count(*) FILTER (WHERE NOT m)::text,
                      round(100.0 * count(*) FILTER (WHERE m) / count(*), 2)::text] FROM {mission}")).await;
    let got = vec![vec![
        r["nb_freelances"].to_string(),
        r["en_mission"].to_string(),
        r["disponibles"].to_string(),
        r["taux_occupation"].as_str().unwrap().to_string(),
    ]];
    assert_eq!(got, want);
    let per_skill = rows(&p, &format!(
        "SELECT array[lower(btrim(s)), count(*) FILTER (WHERE NOT m)::text] FROM {mission}, unnest(mm.competences) s
         GROUP BY lower(btrim(s)) ORDER BY count(*) FILTER (WHERE NOT m) DESC, lower(btrim(s))")).await;
    assert_eq!(
        col(&r["competences"], &["competence", "nb_disponibles"]),
        per_skill
    );
    let available = rows(
        &p,
        &format!(
            "SELECT array[id::text] FROM {mission} WHERE NOT m ORDER BY tarif_jour NULLS LAST, id"
        ),
    )
    .await;
    assert_eq!(col(&r["disponibles_liste"], &["id"]), available);
    let rs = d.json(&format!("/api/ressources?competence={skill}")).await;
    assert!(rs["nb_freelances"].as_i64().unwrap() < r["nb_freelances"].as_i64().unwrap());

    // --- Temps réel
    let t = d.json("/api/temps-reel").await;
    assert_eq!(t["missions_en_cours"], r["en_mission"]);
    assert_eq!(
        t["nouvelles_factures_du_jour"].to_string(),
        p.scalar("SELECT count(*)::text FROM factures WHERE ingested_at >= current_date")
            .await
    );
    let last10 = rows(&p, "SELECT array[facture_id] FROM factures ORDER BY ingested_at DESC, facture_id DESC LIMIT 10").await;
    assert_eq!(col(&t["dernieres_factures"], &["facture_id"]), last10);
    assert_eq!(
        t["factures_en_retard"].to_string(),
        p.scalar("SELECT count(*)::text FROM factures WHERE statut <> 'payee' AND echeance < (SELECT max(date) FROM factures)").await
    );
    assert_eq!(t["statut"]["couleur"], "vert", "{}", t["statut"]);
    assert_eq!(t["statut"]["workers_vivants"], 2);

    // --- exports
    let x = d
        .get("/api/export/financier.xlsx?from=2024-01&to=2024-06")
        .await;
    assert_eq!(x.status(), 200);
    let bytes = x.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    let names = String::from_utf8_lossy(&bytes);
    assert!(names.contains("xl/workbook.xml") && names.contains("xl/worksheets/sheet3.xml"));
    let c = d
        .get("/api/export/financier.csv?table=top10")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(c.lines().next(), Some("freelance_id,nom,prenom,ca,jours"));
    assert_eq!(c.lines().count(), 11);
    let c = d
        .get("/api/export/financier.csv?table=mensuel&from=2024-01&to=2024-06")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(c.lines().next(), Some("periode,ca,jours,nb_factures"));
    assert_eq!(c.lines().nth(1).map(|l| &l[..7]), Some("2024-01"));
    assert_eq!(c.lines().count(), 7);

    // --- OpenAPI documents every API route
    let api = d.json("/api/openapi.json").await;
    for path in [
        "/api/financier",
        "/api/ressources",
        "/api/temps-reel",
        "/api/export/financier.xlsx",
        "/api/events",
    ] {
        assert!(api["paths"][path].is_object(), "{path} undocumented");
    }

    // --- live: a new invoice is pushed to Temps réel
    let mut events = d.get("/api/events").await;
    assert_eq!(events.status(), 200);
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(
        live.join("factures_live.csv"),
        "facture_id,freelance_id,montant,date,statut\nLIVE-0001,1,1234.56,2025-10-01,payee\n",
    )
    .unwrap();
    let produced = Instant::now();
    p.load(&live, &[]);
    let event = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let chunk = events
                .chunk()
                .await
                .unwrap()
                .expect("the event stream ended");
            if String::from_utf8_lossy(&chunk).contains("event: commit") {
                return;
            }
        }
    })
    .await;
    assert!(event.is_ok(), "no commit event within 30 s");
    let t = d.json("/api/temps-reel").await;
    assert_eq!(
        t["dernieres_factures"][0]["facture_id"], "LIVE-0001",
        "{}",
        t["dernieres_factures"]
    );
    let elapsed = produced.elapsed();
    eprintln!("live: invoice produced -> pushed and shown in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(30));

    // the session ends with a logout
    let r = d
        .http
        .post(format!("{}/logout", d.url))
        .header("cookie", &d.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(d.get("/api/temps-reel").await.status(), 401);

    // Prometheus scrapes the dashboards and the master (no login, no business data)
    let text = d
        .http
        .get(format!("{}/metrics", d.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("freelanceflow_dashboard_warehouse_up 1"),
        "{text}"
    );
    let text = d
        .http
        .get(format!("{}/metrics", p.master_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("freelanceflow_workers_alive 2"), "{text}");
    assert!(text.contains("freelanceflow_t3_ok 1"), "{text}");
    assert!(
        text.contains("# TYPE freelanceflow_consumer_lag gauge"),
        "{text}"
    );
    let env = p.env();
    let factures = env
        .iter()
        .find(|(k, _)| *k == "FF_TOPIC_FACTURES")
        .unwrap()
        .1;
    // the lag is measured every second: its value may still count the last invoice
    assert!(
        text.contains(&format!(
            "freelanceflow_consumer_lag{{topic=\"{factures}\",partition=\"0\"}} "
        )),
        "{text}"
    );
}

/// The dashboards' database sessions cannot write, whatever the SQL.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_pool_is_read_only() {
    let (url, _pool) = ff_e2e::fresh_warehouse("dashro").await;
    let ro = ff_dashboard::read_only_pool(&url, Some("freelanceflow_reader"))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM v_factures_recentes")
        .fetch_one(&ro)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let e = sqlx::query("INSERT INTO parametres (cle, valeur) VALUES ('x', 'y')")
        .execute(&ro)
        .await
        .unwrap_err();
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("25006"), "{e}");
    // and the reader role sees the views only
    let e = sqlx::query("SELECT count(*) FROM factures")
        .execute(&ro)
        .await
        .unwrap_err();
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("42501"), "{e}");
}

/// Where the browser test keeps its screenshots (CI artifacts): `<repository>/target/screenshots`.
fn screenshots_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn chromium() -> std::path::PathBuf {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(c).exists() {
            return c.into();
        }
    }
    panic!("no Chromium found: run scripts/install-deps.sh (apt-get install chromium)");
}

async fn js<T: serde::de::DeserializeOwned>(page: &chromiumoxide::Page, expr: &str) -> T {
    page.evaluate(expr)
        .await
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Polls `expr` (a boolean JavaScript expression) until true.
async fn until(page: &chromiumoxide::Page, expr: &str, timeout: Duration) -> Duration {
    let start = Instant::now();
    loop {
        // while a page navigates its JavaScript context goes away: that is "not yet"
        let ok = match page.evaluate(expr).await {
            Ok(v) => v.into_value::<bool>().unwrap_or(false),
            Err(_) => false,
        };
        if ok {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "still false after {timeout:?}: {expr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A user in headless Chromium: logs in, reads every dashboard (charts and tables hold data), filters,
/// downloads the Excel export, and sees a new invoice arrive on Temps réel without reloading.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_in_chromium_sees_every_dashboard_with_data() {
    use chromiumoxide::browser::{Browser, BrowserConfig};
    use chromiumoxide::cdp::browser_protocol::browser::{
        SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
    };
    use chromiumoxide::page::ScreenshotParams;
    use futures::StreamExt;

    let (p, _procs, dir) = loaded_pipeline("browser").await;
    let d = Dashboard::start(&p, dir.path()).await;

    let profile = dir.path().join("chromium-profile");
    let (mut browser, mut handler) = Browser::launch(
        BrowserConfig::builder()
            .chrome_executable(chromium())
            .no_sandbox()
            .user_data_dir(&profile)
            .window_size(1400, 1000)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .build()
            .unwrap(),
    )
    .await
    .expect("Chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let shots = screenshots_dir();
    let shot = |name: &str| shots.join(format!("{name}.png"));
    let full = || ScreenshotParams::builder().full_page(true).build();

    // log in (the app redirects to the login form, then back)
    let page = browser
        .new_page(format!("{}/financier", d.url))
        .await
        .unwrap();
    page.wait_for_navigation().await.unwrap();
    assert!(page.url().await.unwrap().unwrap().contains("/login?next="));
    page.find_element("input[name=user]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("alice")
        .await
        .unwrap();
    page.find_element("input[name=password]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("correct horse")
        .await
        .unwrap();
    page.save_screenshot(full(), shot("0-login")).await.unwrap();
    page.find_element("#login button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.wait_for_navigation().await.unwrap();
    until(
        &page,
        "location.pathname === '/financier' && !!document.getElementById('top10')",
        Duration::from_secs(10),
    )
    .await;

    // Financier: 10 bars, 12 months, KPIs with values
    assert_eq!(
        js::<i64>(&page, "document.querySelectorAll('#top10 .mark').length").await,
        10
    );
    assert_eq!(
        js::<i64>(
            &page,
            "document.querySelectorAll('#revenus-mensuels .mark').length"
        )
        .await,
        12
    );
    let bars: Vec<f64> = js(
        &page,
        "[...document.querySelectorAll('#top10 .mark')].map(e => +e.dataset.value)",
    )
    .await;
    assert!(
        bars.iter().all(|v| *v > 0.0) && bars.windows(2).all(|w| w[0] >= w[1]),
        "{bars:?}"
    );
    let ca_all: f64 = js(&page, "+document.getElementById('ca-total').dataset.value").await;
    assert!(ca_all > 0.0);
    assert!(js::<f64>(&page, "+document.getElementById('tjm-moyen').dataset.value").await > 0.0);
    page.save_screenshot(full(), shot("1-financier"))
        .await
        .unwrap();

    // a skill filter changes the numbers
    let skill: String = js(
        &page,
        "document.querySelector('#filters select').options[1].value",
    )
    .await;
    page.evaluate(format!("document.querySelector('#filters select').value = {skill:?}; document.getElementById('filters').submit()")).await.unwrap();
    page.wait_for_navigation().await.unwrap();
    until(
        &page,
        "location.search.includes('competence=') && !!document.getElementById('ca-total')",
        Duration::from_secs(10),
    )
    .await;
    let ca_skill: f64 = js(&page, "+document.getElementById('ca-total').dataset.value").await;
    assert!(
        ca_skill > 0.0 && ca_skill < ca_all,
        "{skill}: {ca_skill} vs {ca_all}"
    );
    page.save_screenshot(full(), shot("2-financier-filtre"))
        .await
        .unwrap();

    // the Excel export downloads a valid workbook
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    browser
        .execute(
            SetDownloadBehaviorParams::builder()
                .behavior(SetDownloadBehaviorBehavior::Allow)
                .download_path(downloads.to_str().unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    page.find_element("#export-xlsx")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = downloads.join("financier.xlsx");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "no download in {downloads:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let check = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; n = z.namelist(); assert 'xl/workbook.xml' in n and 'xl/worksheets/sheet3.xml' in n, n; print(len(n))"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "not a valid xlsx: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Ressources: the gauge, the pie, the table
    page.goto(format!("{}/ressources", d.url)).await.unwrap();
    until(
        &page,
        "!!document.getElementById('occupation')",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        js::<i64>(
            &page,
            "document.querySelectorAll('#occupation .mark').length"
        )
        .await,
        1
    );
    assert!(
        js::<i64>(
            &page,
            "document.querySelectorAll('#competences .mark').length"
        )
        .await
            >= 3
    );
    let available: i64 = js(&page, "+document.getElementById('disponibles').textContent").await;
    assert_eq!(
        js::<i64>(
            &page,
            "document.querySelectorAll('#disponibles-liste tr').length - 1"
        )
        .await,
        available
    );
    page.save_screenshot(full(), shot("3-ressources"))
        .await
        .unwrap();

    // Temps réel: filled from the API, then a new invoice arrives without a reload
    page.goto(format!("{}/temps-reel", d.url)).await.unwrap();
    until(
        &page,
        "document.querySelectorAll('#dernieres-factures tr').length === 10",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        js::<i64>(
            &page,
            "+document.getElementById('missions-en-cours').textContent"
        )
        .await
            > 0
    );
    until(
        &page,
        "document.getElementById('statut').dataset.couleur === 'vert'",
        Duration::from_secs(10),
    )
    .await;
    page.save_screenshot(full(), shot("4-temps-reel"))
        .await
        .unwrap();
    page.evaluate("window.__sansRechargement = true")
        .await
        .unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(
        live.join("factures_live.csv"),
        "facture_id,freelance_id,montant,date,statut\nLIVE-0002,2,2345.67,2025-10-02,en_attente\n",
    )
    .unwrap();
    let start = Instant::now();
    p.load(&live, &[]);
    until(
        &page,
        "document.querySelector('#dernieres-factures tr td')?.textContent === 'LIVE-0002'",
        Duration::from_secs(30),
    )
    .await;
    let shown = start.elapsed();
    assert!(
        js::<bool>(&page, "window.__sansRechargement === true").await,
        "the page was reloaded"
    );
    eprintln!("live: invoice published -> shown on Temps réel in {shown:?}");
    assert!(shown < Duration::from_secs(30), "{shown:?}");
    page.save_screenshot(full(), shot("5-temps-reel-live"))
        .await
        .unwrap();

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    events.abort();
}
