//! Kafka messages of a micro-batch -> T1 rules of the data contract -> Arrow record batches.
//!
//! Field-level rules (aliases, money, dates, e-mails, statuses) live in `ff-core`, shared with the
//! loader and property-tested there. Set-level rules (deduplication, pending invoices) are SQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use ff_core::{
    validate_invoice, validate_profile, Envelope, Invoice, Profile, RuleCode, SourceRef,
};
use ff_warehouse::PartitionKey;
use sha2::{Digest, Sha256};

/// NUMERIC(12,2) in Arrow.
pub const MONEY: DataType = DataType::Decimal128(12, 2);

/// One consumed Kafka message.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub payload: Option<&'a [u8]>,
}

/// Where a row came from.
#[derive(Clone, Debug)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub file: Option<String>,
    pub line: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct RejectRow {
    pub entity: &'static str,
    pub rule: RuleCode,
    pub message: String,
    pub origin: Origin,
    pub load_id: Option<String>,
    pub raw: String,
}

/// An end-of-load marker seen on a topic partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    pub load_id: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The decoded content of one micro-batch.
#[derive(Default, Debug)]
pub struct Decoded {
    pub profiles: Vec<(Origin, Profile)>,
    pub invoices: Vec<InvoiceRow>,
    pub rejects: Vec<RejectRow>,
    pub markers: Vec<Marker>,
    /// first and last offset consumed per partition
    pub offsets: BTreeMap<PartitionKey, (i64, i64)>,
}

impl Decoded {
    pub fn records(&self) -> usize {
        self.offsets
            .values()
            .map(|(a, b)| (b - a + 1) as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Applies the T1 field rules to one message.
    pub fn push(&mut self, m: Message<'_>) {
        let key = PartitionKey::new(m.topic, m.partition);
        self.offsets
            .entry(key)
            .and_modify(|r| r.1 = m.offset)
            .or_insert((m.offset, m.offset));
        let origin = |src: Option<&SourceRef>| Origin {
            topic: m.topic.to_string(),
            partition: m.partition,
            offset: m.offset,
            file: src.map(|s| s.file.clone()),
            line: src.map(|s| s.line as i64),
        };
        let payload = m.payload.unwrap_or_default();
        let envelope = match Envelope::from_bytes(payload) {
            Ok(e) => e,
            Err(e) => {
                self.rejects.push(RejectRow {
                    entity: "inconnu",
                    rule: RuleCode::InvalidJson,
                    message: format!("message is not a FreelanceFlow envelope: {e}"),
                    origin: origin(None),
                    load_id: None,
                    raw: String::from_utf8_lossy(payload).into_owned(),
                });
                return;
            }
        };
        match envelope {
            Envelope::Profil {
                load_id,
                source,
                record,
            } => match validate_profile(&record) {
                Ok(p) => self.profiles.push((origin(Some(&source)), p)),
                Err(r) => self.rejects.push(RejectRow {
                    entity: "profil",
                    rule: r.rule,
                    message: r.message,
                    origin: origin(Some(&source)),
                    load_id: Some(load_id),
                    raw: serde_json::Value::Object(record).to_string(),
                }),
            },
            Envelope::Facture {
                load_id,
                source,
                record,
                freelance_id,
            } => {
                let valid = validate_invoice(&record, freelance_id);
                let raw = serde_json::to_string(&record).expect("a JSON map serialises");
                match valid {
                    Ok(i) => {
                        self.invoices
                            .push(InvoiceRow::from_invoice(origin(Some(&source)), i, raw))
                    }
                    Err(r) => self.rejects.push(RejectRow {
                        entity: "facture",
                        rule: r.rule,
                        message: r.message,
                        origin: origin(Some(&source)),
                        load_id: Some(load_id),
                        raw,
                    }),
                }
            }
            Envelope::FinChargement { load_id, .. } => self.markers.push(Marker {
                load_id,
                topic: m.topic.to_string(),
                partition: m.partition,
                offset: m.offset,
            }),
            Envelope::Rejet {
                load_id,
                source,
                rule,
                message,
                raw,
            } => self.rejects.push(RejectRow {
                entity: "inconnu",
                rule,
                message,
                origin: origin(Some(&source)),
                load_id: Some(load_id),
                raw,
            }),
        }
    }
}

/// The fingerprint that makes a reject unique: the same record rejected twice is one reject.
/// Must match the SQL of `pg_end_of_load.sql`.
pub fn reject_fingerprint(
    entity: &str,
    file: Option<&str>,
    line: Option<i64>,
    raw: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{entity}|{}|{}|{raw}",
        file.unwrap_or(""),
        line.unwrap_or(-1)
    ));
    hex::encode(h.finalize())
}

pub(crate) fn days(d: NaiveDate) -> i32 {
    const EPOCH_CE_DAYS: i32 = 719_163; // 1970-01-01 counted from 0001-01-01
    chrono::Datelike::num_days_from_ce(&d) - EPOCH_CE_DAYS
}

fn money(values: impl IntoIterator<Item = Option<i128>>) -> ArrayRef {
    Arc::new(
        Decimal128Array::from_iter(values)
            .with_precision_and_scale(12, 2)
            .expect("NUMERIC(12,2) is a valid decimal type"),
    )
}

fn origin_fields() -> Vec<Field> {
    vec![
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("kafka_offset", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, true),
        Field::new("source_line", DataType::Int64, true),
    ]
}

fn origin_columns<'a>(origins: impl Iterator<Item = &'a Origin> + Clone) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from_iter_values(
            origins.clone().map(|o| o.topic.as_str()),
        )),
        Arc::new(Int32Array::from_iter_values(
            origins.clone().map(|o| o.partition),
        )),
        Arc::new(Int64Array::from_iter_values(
            origins.clone().map(|o| o.offset),
        )),
        Arc::new(StringArray::from_iter(
            origins.clone().map(|o| o.file.as_deref()),
        )),
        Arc::new(Int64Array::from_iter(origins.map(|o| o.line))),
    ]
}

pub fn profiles_schema() -> SchemaRef {
    let mut f = origin_fields();
    f.extend([
        Field::new("id", DataType::Int64, false),
        Field::new("nom", DataType::Utf8, false),
        Field::new("prenom", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, false),
        Field::new("competences", DataType::Utf8, false),
        Field::new("tarif_jour", MONEY, false),
        Field::new("ville", DataType::Utf8, true),
        Field::new("statut", DataType::Utf8, true),
        Field::new("date_inscription", DataType::Date32, true),
        Field::new("extra", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(f))
}

pub fn profiles_batch(rows: &[(Origin, Profile)]) -> RecordBatch {
    let p = || rows.iter().map(|(_, p)| p);
    let mut cols = origin_columns(rows.iter().map(|(o, _)| o));
    cols.extend::<[ArrayRef; 10]>([
        Arc::new(Int64Array::from_iter_values(p().map(|p| p.id))),
        Arc::new(StringArray::from_iter_values(p().map(|p| p.nom.as_str()))),
        Arc::new(StringArray::from_iter(p().map(|p| p.prenom.as_deref()))),
        Arc::new(StringArray::from_iter_values(p().map(|p| p.email.as_str()))),
        Arc::new(StringArray::from_iter_values(p().map(|p| {
            serde_json::to_string(&p.competences).expect("strings serialise")
        }))),
        money(p().map(|p| Some(p.tarif_jour.cents() as i128))),
        Arc::new(StringArray::from_iter(p().map(|p| p.ville.as_deref()))),
        Arc::new(StringArray::from_iter(
            p().map(|p| p.statut.map(|s| s.as_str())),
        )),
        Arc::new(Date32Array::from_iter(
            p().map(|p| p.date_inscription.map(days)),
        )),
        Arc::new(StringArray::from_iter_values(
            p().map(|p| serde_json::Value::Object(p.extra.clone()).to_string()),
        )),
    ]);
    RecordBatch::try_new(profiles_schema(), cols).expect("columns match the profiles schema")
}

pub fn invoices_schema() -> SchemaRef {
    let mut f = origin_fields();
    f.extend([
        Field::new("facture_id", DataType::Utf8, false),
        Field::new("freelance_id", DataType::Int64, false),
        Field::new("montant", MONEY, false),
        Field::new("date", DataType::Date32, false),
        Field::new("echeance", DataType::Date32, false),
        Field::new("statut", DataType::Utf8, false),
        Field::new("jours", MONEY, true),
        Field::new("client", DataType::Utf8, true),
        Field::new("raw", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(f))
}

/// One invoice row as the worker sees it: validated fields and where it came from.
#[derive(Clone, Debug)]
pub struct InvoiceRow {
    pub origin: Origin,
    pub facture_id: String,
    pub freelance_id: i64,
    pub montant_cents: i64,
    pub date: NaiveDate,
    pub echeance: NaiveDate,
    pub statut: String,
    pub jours_cents: Option<i64>,
    pub client: Option<String>,
    pub raw: String,
}

impl InvoiceRow {
    pub fn from_invoice(origin: Origin, i: Invoice, raw: String) -> Self {
        Self {
            origin,
            facture_id: i.facture_id,
            freelance_id: i.freelance_id,
            montant_cents: i.montant.cents(),
            date: i.date,
            echeance: i.echeance,
            statut: i.statut.as_str().to_string(),
            jours_cents: i.jours.map(|j| j.cents()),
            client: i.client,
            raw,
        }
    }
}

pub fn invoices_batch(rows: &[InvoiceRow]) -> RecordBatch {
    let r = || rows.iter();
    let mut cols = origin_columns(rows.iter().map(|r| &r.origin));
    cols.extend::<[ArrayRef; 9]>([
        Arc::new(StringArray::from_iter_values(
            r().map(|r| r.facture_id.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(r().map(|r| r.freelance_id))),
        money(r().map(|r| Some(r.montant_cents as i128))),
        Arc::new(Date32Array::from_iter_values(r().map(|r| days(r.date)))),
        Arc::new(Date32Array::from_iter_values(r().map(|r| days(r.echeance)))),
        Arc::new(StringArray::from_iter_values(
            r().map(|r| r.statut.as_str()),
        )),
        money(r().map(|r| r.jours_cents.map(i128::from))),
        Arc::new(StringArray::from_iter(r().map(|r| r.client.as_deref()))),
        Arc::new(StringArray::from_iter_values(r().map(|r| r.raw.as_str()))),
    ]);
    RecordBatch::try_new(invoices_schema(), cols).expect("columns match the invoices schema")
}

pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("fingerprint", DataType::Utf8, false),
        Field::new("entity", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, true),
        Field::new("source_line", DataType::Int64, true),
        Field::new("topic", DataType::Utf8, true),
        Field::new("partition", DataType::Int32, true),
        Field::new("kafka_offset", DataType::Int64, true),
        Field::new("load_id", DataType::Utf8, true),
        Field::new("raw", DataType::Utf8, false),
    ]))
}

pub fn rejects_batch(rows: &[RejectRow]) -> RecordBatch {
    let r = || rows.iter();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(r().map(|r| {
            reject_fingerprint(r.entity, r.origin.file.as_deref(), r.origin.line, &r.raw)
        }))),
        Arc::new(StringArray::from_iter_values(r().map(|r| r.entity))),
        Arc::new(StringArray::from_iter_values(r().map(|r| r.rule.as_str()))),
        Arc::new(StringArray::from_iter_values(
            r().map(|r| r.message.as_str()),
        )),
        Arc::new(StringArray::from_iter(
            r().map(|r| r.origin.file.as_deref()),
        )),
        Arc::new(Int64Array::from_iter(r().map(|r| r.origin.line))),
        Arc::new(StringArray::from_iter(
            r().map(|r| Some(r.origin.topic.as_str())),
        )),
        Arc::new(Int32Array::from_iter(r().map(|r| Some(r.origin.partition)))),
        Arc::new(Int64Array::from_iter(r().map(|r| Some(r.origin.offset)))),
        Arc::new(StringArray::from_iter(r().map(|r| r.load_id.as_deref()))),
        Arc::new(StringArray::from_iter_values(r().map(|r| r.raw.as_str()))),
    ];
    RecordBatch::try_new(rejects_schema(), cols).expect("columns match the rejects schema")
}

/// `tarifs (id, tarif_jour)`: the known freelancers an invoice batch refers to.
pub fn tarifs_batch(rows: &[(i64, i64)]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("tarif_jour", MONEY, false),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            money(rows.iter().map(|r| Some(r.1 as i128))),
        ],
    )
    .expect("columns match the tarifs schema")
}

/// `factures_anciennes (facture_id, freelance_id, date, montant, jours)`: versions a batch may replace.
pub fn previous_batch(rows: &[(String, i64, NaiveDate, i64, i64)]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("facture_id", DataType::Utf8, false),
            Field::new("freelance_id", DataType::Int64, false),
            Field::new("date", DataType::Date32, false),
            Field::new("montant", MONEY, false),
            Field::new("jours", MONEY, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Date32Array::from_iter_values(
                rows.iter().map(|r| days(r.2)),
            )),
            money(rows.iter().map(|r| Some(r.3 as i128))),
            money(rows.iter().map(|r| Some(r.4 as i128))),
        ],
    )
    .expect("columns match the previous-invoices schema")
}
