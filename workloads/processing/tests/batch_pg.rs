//! Micro-batch commits against a real PostgreSQL (no broker: messages are built here).
//! Needs `scripts/stack.sh up`.

use std::collections::HashMap;

use ff_core::{Envelope, RuleCode, SourceRef};
use ff_processing::batch::{self, Topics};
use ff_processing::decode::{Decoded, Message};
use ff_warehouse::offsets::{self, Claim};
use ff_warehouse::PartitionKey;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};

const WORKER: &str = "worker-test";

fn topics() -> Topics {
    Topics {
        group: "g".into(),
        profils: "profils".into(),
        factures: "factures".into(),
    }
}

struct Harness {
    url: String,
    pool: PgPool,
    conn: PgConnection,
    claims: HashMap<PartitionKey, Claim>,
    next: HashMap<PartitionKey, i64>,
}

impl Harness {
    async fn new() -> Harness {
        let (url, pool) = ff_e2e::fresh_warehouse("batch").await;
        let mut conn = PgConnection::connect(&url).await.unwrap();
        batch::prepare(&mut conn).await.unwrap();
        let keys = [
            PartitionKey::new("profils", 0),
            PartitionKey::new("factures", 0),
        ];
        let claims = offsets::claim(&pool, "g", WORKER, &keys).await.unwrap();
        Harness {
            url,
            pool,
            conn,
            claims: claims.into_iter().map(|c| (c.key.clone(), c)).collect(),
            next: HashMap::new(),
        }
    }

    fn push(&mut self, d: &mut Decoded, topic: &str, env: Envelope) {
        let key = PartitionKey::new(topic, 0);
        let offset = *self.next.entry(key.clone()).or_insert(0);
        self.next.insert(key, offset + 1);
        let bytes = env.to_bytes();
        d.push(Message {
            topic,
            partition: 0,
            offset,
            payload: Some(&bytes),
        });
    }

    async fn commit(&mut self, d: &Decoded) -> Result<batch::BatchStats, batch::BatchError> {
        batch::commit(&mut self.conn, &topics(), &self.claims, WORKER, d).await
    }

    async fn scalar_text(&self, q: &str) -> Option<String> {
        sqlx::query_scalar(q).fetch_one(&self.pool).await.unwrap()
    }
}

fn profile(line: u64, v: serde_json::Value) -> Envelope {
    Envelope::Profil {
        load_id: "l1".into(),
        source: SourceRef {
            file: "profils.json".into(),
            line,
        },
        record: v.as_object().unwrap().clone(),
    }
}

fn invoice(line: u64, id: Option<i64>, v: serde_json::Value) -> Envelope {
    Envelope::Facture {
        load_id: "l1".into(),
        source: SourceRef {
            file: "factures.csv".into(),
            line,
        },
        record: v.as_object().unwrap().clone(),
        freelance_id: id,
    }
}

fn marker(load: &str) -> Envelope {
    Envelope::FinChargement {
        load_id: load.into(),
        files: vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dupont_sample_lands_in_the_warehouse() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    h.push(&mut d, "profils", profile(1, json!({"id": 1, "email": "dupont@example.com", "nom": "Dupont", "compétences": ["Python"], "tarif_jour": "450€"})));
    h.push(
        &mut d,
        "factures",
        invoice(
            2,
            Some(1),
            json!({"freelance": "Dupont", "montant": "4500€", "date": "Oct-2025"}),
        ),
    );
    let stats = h.commit(&d).await.unwrap();
    assert_eq!((stats.profiles, stats.invoices, stats.rejects), (1, 1, 0));

    let row: (String, Vec<String>, String) =
        sqlx::query_as("SELECT nom, competences, tarif_jour::text FROM freelances WHERE id = 1")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(
        row,
        ("Dupont".into(), vec!["Python".into()], "450.00".into())
    );
    let inv: (String, String, String, String, String, bool) = sqlx::query_as(
        "SELECT montant::text, date::text, echeance::text, statut, jours::text, jours_derives FROM factures WHERE freelance_id = 1",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        inv,
        (
            "4500.00".into(),
            "2025-10-01".into(),
            "2025-10-31".into(),
            "en_attente".into(),
            "10.00".into(),
            true
        )
    );
    assert_eq!(
        h.scalar_text(
            "SELECT ca::text || '/' || jours::text || '/' || nb_factures FROM ca_freelance_mensuel"
        )
        .await,
        Some("4500.00/10.00/1".into())
    );
    let offs = offsets::stored_offsets(&h.pool, "g").await.unwrap();
    assert_eq!(
        offs.iter().map(|o| o.next_offset).collect::<Vec<_>>(),
        vec![1, 1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_invoice_waits_for_its_profile_then_t2_is_exact() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    h.push(&mut d, "factures", invoice(2, Some(7), json!({"facture_id": "F1", "montant": "1 000,50 €", "date": "2025-01-15", "jours": "2"})));
    h.push(
        &mut d,
        "factures",
        invoice(
            3,
            Some(7),
            json!({"facture_id": "F2", "montant": "500", "date": "15/01/2025"}),
        ),
    );
    let s = h.commit(&d).await.unwrap();
    assert_eq!((s.invoices, s.pending), (0, 2));
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM factures_en_attente")
            .await,
        Some("2".into())
    );

    let mut d = Decoded::default();
    h.push(
        &mut d,
        "profils",
        profile(
            1,
            json!({"id": 7, "nom": "Martin", "mail": "M@Ex.fr", "tjm": 250}),
        ),
    );
    let s = h.commit(&d).await.unwrap();
    assert_eq!((s.profiles, s.invoices, s.pending), (1, 2, 0));
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM factures_en_attente")
            .await,
        Some("0".into())
    );
    assert_eq!(
        h.scalar_text(
            "SELECT ca::text || '/' || jours::text || '/' || nb_factures FROM ca_freelance_mensuel"
        )
        .await,
        Some("1500.50/4.00/2".into()) // 2 given + 500/250 derived
    );

    // A new version of F1 replaces the old one: T2 moves by the difference only.
    let mut d = Decoded::default();
    h.push(
        &mut d,
        "factures",
        invoice(
            9,
            Some(7),
            json!({"facture_id": "F1", "montant": "2000", "date": "2025-02-03", "jours": "4"}),
        ),
    );
    h.commit(&d).await.unwrap();
    let t2: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT mois::text, ca::text, jours::text, nb_factures FROM ca_freelance_mensuel ORDER BY mois",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        t2,
        vec![
            ("2025-01-01".into(), "500.00".into(), "2.00".into(), 1),
            ("2025-02-01".into(), "2000.00".into(), "4.00".into(), 1)
        ]
    );
    // and T2 equals a plain recomputation from the invoices
    let recomputed: Option<String> = sqlx::query_scalar(
        "SELECT string_agg(m || ':' || s, ',' ORDER BY m) FROM (SELECT date_trunc('month', date)::date::text m, sum(montant)::text s FROM factures GROUP BY 1) x",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        recomputed.as_deref(),
        Some("2025-01-01:500.00,2025-02-01:2000.00")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loading_the_same_records_again_changes_no_row() {
    let mut h = Harness::new().await;
    let records = vec![
        (
            "profils",
            profile(
                1,
                json!({"id": 3, "nom": "Durand", "email": "d@x.fr", "skills": "Rust, SQL, rust", "daily_rate": "600 EUR", "status": "available"}),
            ),
        ),
        (
            "profils",
            profile(
                2,
                json!({"id": 4, "nom": "", "email": "d@x.fr", "tarif_jour": 1}),
            ),
        ),
        (
            "factures",
            invoice(
                2,
                Some(3),
                json!({"montant": "1,234.50", "date": "octobre 2025", "statut": "paid"}),
            ),
        ),
        (
            "factures",
            invoice(3, Some(3), json!({"montant": "abc", "date": "2025-10-02"})),
        ),
    ];
    let mut d = Decoded::default();
    for (t, e) in records.clone() {
        h.push(&mut d, t, e);
    }
    h.commit(&d).await.unwrap();
    let snapshot = "SELECT (SELECT string_agg(f::text, '|' ORDER BY id) FROM freelances f) || '#' ||
                           (SELECT string_agg(x::text, '|' ORDER BY facture_id) FROM (SELECT facture_id, freelance_id, montant, date, echeance, statut, jours, updated_at, ingested_at FROM factures) x) || '#' ||
                           (SELECT string_agg(r.fingerprint || r.rule, '|' ORDER BY r.id) FROM rejets r) || '#' ||
                           (SELECT string_agg(c::text, '|' ORDER BY freelance_id, mois) FROM ca_freelance_mensuel c)";
    let before = h.scalar_text(snapshot).await;
    assert!(
        before.as_deref().unwrap().contains("missing_field"),
        "{before:?}"
    );
    assert!(
        before.as_deref().unwrap().contains("invalid_amount"),
        "{before:?}"
    );

    let mut d = Decoded::default();
    for (t, e) in records {
        h.push(&mut d, t, e);
    }
    h.commit(&d).await.unwrap();
    let after = h.scalar_text(snapshot).await;
    let normalise = |s: Option<String>| s.unwrap().replace("offset", ""); // source offsets of freelances differ? no: identical rows are not updated
    assert_eq!(normalise(before), normalise(after));
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM rejets").await,
        Some("2".into())
    );
    assert_eq!(
        h.scalar_text("SELECT array_to_string(competences, ',') FROM freelances WHERE id = 3")
            .await,
        Some("Rust,SQL".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_lost_its_partition_cannot_commit() {
    let mut h = Harness::new().await;
    // another worker claims the partitions (a rebalance happened)
    offsets::claim(
        &h.pool,
        "g",
        "worker-other",
        &[
            PartitionKey::new("profils", 0),
            PartitionKey::new("factures", 0),
        ],
    )
    .await
    .unwrap();
    let mut d = Decoded::default();
    h.push(
        &mut d,
        "profils",
        profile(
            1,
            json!({"id": 1, "nom": "A", "email": "a@b.fr", "tarif_jour": 100}),
        ),
    );
    let err = h.commit(&d).await.unwrap_err();
    assert!(err.is_fenced(), "{err}");
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM freelances").await,
        Some("0".into())
    );
    let offs = offsets::stored_offsets(&h.pool, "g").await.unwrap();
    assert!(offs
        .iter()
        .all(|o| o.next_offset == 0 && o.owner.as_deref() == Some("worker-other")));
}

#[tokio::test(flavor = "multi_thread")]
async fn end_of_load_rejects_invoices_whose_freelancer_never_came() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    h.push(
        &mut d,
        "factures",
        invoice(
            5,
            Some(4242),
            json!({"freelance_id": "4242", "montant": "100", "date": "2025-03-01"}),
        ),
    );
    h.push(
        &mut d,
        "factures",
        invoice(
            6,
            None,
            json!({"freelance": "Inconnu", "montant": "100", "date": "2025-03-01"}),
        ),
    );
    h.push(&mut d, "profils", marker("l1"));
    let s = h.commit(&d).await.unwrap();
    assert_eq!((s.pending, s.rejects, s.expired), (1, 1, 0)); // one marker only: still waiting
    let mut d = Decoded::default();
    h.push(&mut d, "factures", marker("l1"));
    let s = h.commit(&d).await.unwrap();
    assert_eq!(s.expired, 1);
    let rejects: Vec<(String, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT rule, source_file, source_line, message FROM rejets ORDER BY source_line",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(rejects.len(), 2);
    assert_eq!(
        (rejects[0].0.as_str(), rejects[0].2),
        ("unknown_freelance", Some(5))
    );
    assert!(rejects[0].3.contains("4242"), "{}", rejects[0].3);
    assert_eq!(
        (rejects[1].0.as_str(), rejects[1].2),
        ("unknown_freelance", Some(6))
    );
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM factures_en_attente")
            .await,
        Some("0".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_daily_rate_recomputes_derived_days() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    h.push(
        &mut d,
        "profils",
        profile(
            1,
            json!({"id": 2, "nom": "B", "email": "b@b.fr", "tarif_jour": 500}),
        ),
    );
    h.push(
        &mut d,
        "factures",
        invoice(
            2,
            Some(2),
            json!({"facture_id": "X", "montant": "1000", "date": "2025-05-05"}),
        ),
    );
    h.push(
        &mut d,
        "factures",
        invoice(
            3,
            Some(2),
            json!({"facture_id": "Y", "montant": "1000", "date": "2025-05-06", "jours": "3"}),
        ),
    );
    h.commit(&d).await.unwrap();
    let mut d = Decoded::default();
    h.push(
        &mut d,
        "profils",
        profile(
            7,
            json!({"id": 2, "nom": "B", "email": "b@b.fr", "tarif_jour": 400}),
        ),
    );
    h.commit(&d).await.unwrap();
    assert_eq!(
        h.scalar_text(
            "SELECT string_agg(facture_id || '=' || jours, ',' ORDER BY facture_id) FROM factures"
        )
        .await,
        Some("X=2.50,Y=3.00".into())
    );
    assert_eq!(
        h.scalar_text("SELECT jours::text FROM ca_freelance_mensuel")
            .await,
        Some("5.50".into())
    );
    drop(h.url);
}

#[tokio::test(flavor = "multi_thread")]
async fn undecodable_messages_and_dead_letters_become_rejects() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    d.push(Message {
        topic: "profils",
        partition: 0,
        offset: 0,
        payload: Some(b"not json at all"),
    });
    h.next.insert(PartitionKey::new("profils", 0), 1);
    h.push(
        &mut d,
        "profils",
        Envelope::Rejet {
            load_id: "l1".into(),
            source: SourceRef {
                file: "p.jsonl".into(),
                line: 17,
            },
            rule: RuleCode::InvalidJson,
            message: "invalid JSON".into(),
            raw: "{\"id\": 17".into(),
        },
    );
    let s = h.commit(&d).await.unwrap();
    assert_eq!(s.rejects, 2);
    let rows: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT entity, rule, source_file, source_line FROM rejets ORDER BY kafka_offset",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("inconnu".into(), "invalid_json".into(), None, None),
            (
                "inconnu".into(),
                "invalid_json".into(),
                Some("p.jsonl".into()),
                Some(17)
            )
        ]
    );
}

/// The reference factures.freelance_id -> freelances.id is checked per statement (migration 3), for
/// every writer: inserts, COPY, updates of invoices, and deletes or id changes of freelancers.
#[tokio::test(flavor = "multi_thread")]
async fn the_warehouse_refuses_invoices_without_their_freelancer() {
    let mut h = Harness::new().await;
    let mut d = Decoded::default();
    for id in [1, 2] {
        h.push(&mut d, "profils", profile(id, json!({"id": id, "nom": format!("N{id}"), "email": format!("n{id}@x.fr"), "tarif_jour": 400})));
    }
    h.push(
        &mut d,
        "factures",
        invoice(
            1,
            Some(1),
            json!({"facture_id": "F1", "freelance": "N1", "montant": "800", "date": "2025-10-01"}),
        ),
    );
    h.commit(&d).await.unwrap();

    let sqlstate = |e: sqlx::Error| {
        e.as_database_error()
            .and_then(|d| d.code().map(|c| c.into_owned()))
    };
    let insert = |id: i64| {
        format!(
            "INSERT INTO factures (facture_id, freelance_id, montant, date, echeance, statut, jours, \
             jours_derives, source_topic, source_partition, source_offset) \
             VALUES ('X{id}', {id}, 10, '2025-01-01', '2025-01-31', 'payee', 1, false, 't', 0, 0)"
        )
    };
    let err = sqlx::query(&insert(999))
        .execute(&h.pool)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(err).as_deref(), Some("23503"));
    sqlx::query(&insert(2)).execute(&h.pool).await.unwrap();

    // COPY goes through the same check
    let mut conn = h.pool.acquire().await.unwrap();
    let mut copy = conn
        .copy_in_raw(
            "COPY factures (facture_id, freelance_id, montant, date, echeance, statut, jours, \
             jours_derives, source_topic, source_partition, source_offset) FROM STDIN (FORMAT csv)",
        )
        .await
        .unwrap();
    copy.send(&b"C1,2,10,2025-01-01,2025-01-31,payee,1,f,t,0,0\nC2,777,10,2025-01-01,2025-01-31,payee,1,f,t,0,0\n"[..])
        .await
        .unwrap();
    assert_eq!(
        sqlstate(copy.finish().await.unwrap_err()).as_deref(),
        Some("23503")
    );
    drop(conn);

    let err = sqlx::query("UPDATE factures SET freelance_id = 3 WHERE facture_id = 'F1'")
        .execute(&h.pool)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(err).as_deref(), Some("23503"));
    // freelancer 2 is referenced by invoice X2 only (no T2 row, whose own foreign key would also refuse)
    let err = sqlx::query("DELETE FROM freelances WHERE id = 2")
        .execute(&h.pool)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(err).as_deref(), Some("23503"));
    let err = sqlx::query("UPDATE freelances SET id = 10 WHERE id = 2")
        .execute(&h.pool)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(err).as_deref(), Some("23503"));

    // nothing of the refused statements remains; a freelancer without invoices can go
    assert_eq!(
        h.scalar_text("SELECT string_agg(facture_id, ',' ORDER BY facture_id) FROM factures")
            .await,
        Some("F1,X2".into())
    );
    assert_eq!(
        h.scalar_text("SELECT count(*)::text FROM ca_freelance_mensuel WHERE freelance_id = 2")
            .await,
        Some("0".into())
    );
    sqlx::query("DELETE FROM factures WHERE facture_id = 'X2'")
        .execute(&h.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM freelances WHERE id = 2")
        .execute(&h.pool)
        .await
        .unwrap();
}

/// Binary COPY (used for invoices) gives PostgreSQL exactly the values Arrow holds.
#[tokio::test(flavor = "multi_thread")]
async fn binary_copy_round_trips_every_column_type() {
    use arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Int32Array, Int64Array, StringArray,
    };
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;

    let h = Harness::new().await;
    let mut conn = h.pool.acquire().await.unwrap();
    sqlx::query(
        "CREATE TEMP TABLE rt (t text, i bigint, j integer, b boolean, d date, m numeric(12,2), n numeric(20,5))",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    // tricky values first, then a spread of pseudo-random ones
    let mut cents: Vec<i128> = vec![
        0,
        1,
        -1,
        5,
        99,
        100,
        10_000,
        450_000,
        100_000_000,
        -150,
        999_999_999_999,
    ];
    let mut fives: Vec<i128> = vec![
        0,
        1,
        123_456,
        -100_000,
        99_999_999_999_999,
        10_000_000_000,
        7,
    ];
    let mut x: u64 = 42;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 11
    };
    for _ in 0..300 {
        let r = next();
        cents.push((r % 200_000_000_000) as i128 - 100_000_000_000);
        fives.push((next() % 10u64.pow(15)) as i128 * if r % 2 == 0 { 1 } else { -1 });
    }
    let n = cents.len().min(fives.len());
    let (cents, fives) = (&cents[..n], &fives[..n]);
    let texts: Vec<Option<String>> = (0..n)
        .map(|k| (k % 7 != 3).then(|| format!("é,\"q\"\n\t{k}")))
        .collect();
    let days: Vec<i32> = (0..n).map(|k| -20_000 + (k as i32) * 97).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Utf8, true),
        Field::new("i", DataType::Int64, false),
        Field::new("j", DataType::Int32, true),
        Field::new("b", DataType::Boolean, false),
        Field::new("d", DataType::Date32, false),
        Field::new("m", DataType::Decimal128(12, 2), false),
        Field::new("n", DataType::Decimal128(20, 5), false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(texts.clone())),
            Arc::new(Int64Array::from(
                (0..n as i64)
                    .map(|k| k * 1_000_000_007 - 5)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                (0..n as i32)
                    .map(|k| (k % 5 != 0).then_some(-k))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                (0..n).map(|k| k % 2 == 0).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(days.clone())),
            Arc::new(
                Decimal128Array::from(cents.to_vec())
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
            Arc::new(
                Decimal128Array::from(fives.to_vec())
                    .with_precision_and_scale(20, 5)
                    .unwrap(),
            ),
        ],
    )
    .unwrap();
    let written = ff_warehouse::copy_batches_binary(
        &mut conn,
        "rt",
        &["t", "i", "j", "b", "d", "m", "n"],
        &[batch],
    )
    .await
    .unwrap();
    assert_eq!(written as usize, n);

    type Row = (
        Option<String>,
        i64,
        Option<i32>,
        bool,
        String,
        String,
        String,
    );
    let rows: Vec<Row> =
        sqlx::query_as("SELECT t, i, j, b, d::text, m::text, n::text FROM rt ORDER BY i")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let decimal = |v: i128, scale: u32| {
        let p = 10i128.pow(scale);
        let sign = if v < 0 { "-" } else { "" };
        format!(
            "{sign}{}.{:0w$}",
            v.abs() / p,
            v.abs() % p,
            w = scale as usize
        )
    };
    for (k, row) in rows.iter().enumerate() {
        let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
            + chrono::Duration::days(days[k] as i64);
        let expected = (
            texts[k].clone(),
            k as i64 * 1_000_000_007 - 5,
            (k % 5 != 0).then_some(-(k as i32)),
            k % 2 == 0,
            date.to_string(),
            decimal(cents[k], 2),
            decimal(fives[k], 5),
        );
        assert_eq!(row, &expected, "row {k}");
    }
}
