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

#[tokio::test(flavor = "multi_thread")]
async fn every_panel_equals_independent_sql_and_new_invoices_are_pushed_live() {
    let p = Pipeline::new("dash").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = ff_datagen::GenConfig {
        invoices: 6_000,
        ..Default::default()
    };
    ff_datagen::generate(&cfg, &data).unwrap();
    let _master = p.master();
    let _w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    p.load(&data, &[]);
    p.wait(300);
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
