//! The JSON value of every Kafka message on the `profils`, `factures` and dead-letter topics.
//!
//! Wire format: one JSON object tagged by `kind` (`profil`, `facture`, `fin_chargement`, `rejet`), e.g.
//! `{"kind":"profil","load_id":"…","source":{"file":"a.json","line":3},"record":{…}}`. `record` keeps the
//! source keys and values as read (validation happens on the consumer side). `Facture.freelance_id` is the id
//! the loader resolved from a `freelance` name, omitted when none. `FinChargement` marks the end of a load
//! (the consumer then rejects still-pending invoices as `unknown_freelance`). `Rejet` is the dead-letter record
//! for input that cannot even be parsed into a record; `raw` is the offending text.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::reject::RuleCode;

/// Where a record comes from: the input file name and its 1-based line (for a JSON array, the line where
/// the object starts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub file: String,
    pub line: u64,
}

/// A Kafka message value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    Profil {
        load_id: String,
        source: SourceRef,
        record: Map<String, Value>,
    },
    Facture {
        load_id: String,
        source: SourceRef,
        record: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        freelance_id: Option<i64>,
    },
    FinChargement {
        load_id: String,
        files: Vec<String>,
    },
    Rejet {
        load_id: String,
        source: SourceRef,
        rule: RuleCode,
        message: String,
        raw: String,
    },
}

impl Envelope {
    /// The load this message belongs to.
    pub fn load_id(&self) -> &str {
        match self {
            Envelope::Profil { load_id, .. }
            | Envelope::Facture { load_id, .. }
            | Envelope::FinChargement { load_id, .. }
            | Envelope::Rejet { load_id, .. } => load_id,
        }
    }

    /// The source of the message, if it has one.
    pub fn source(&self) -> Option<&SourceRef> {
        match self {
            Envelope::Profil { source, .. }
            | Envelope::Facture { source, .. }
            | Envelope::Rejet { source, .. } => Some(source),
            Envelope::FinChargement { .. } => None,
        }
    }

    /// The JSON bytes of the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Cannot fail: string keys only, and `Value` holds no non-finite float.
        serde_json::to_vec(self).expect("an Envelope always serializes")
    }

    /// Parses the JSON bytes of a message.
    ///
    /// Reads the flat [`Wire`] form in one pass: the derived reader of an internally tagged enum first
    /// buffers the whole object, then reads it again, which cost a worker a seventh of its time.
    pub fn from_bytes(b: &[u8]) -> Result<Envelope, serde_json::Error> {
        serde_json::from_slice::<Wire>(b)?.into_envelope()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Profil,
    Facture,
    FinChargement,
    Rejet,
}

/// Every field any kind of envelope has; [`Wire::into_envelope`] checks those the kind requires.
#[derive(Deserialize)]
struct Wire {
    kind: Kind,
    load_id: String,
    source: Option<SourceRef>,
    record: Option<Map<String, Value>>,
    freelance_id: Option<i64>,
    files: Option<Vec<String>>,
    rule: Option<RuleCode>,
    message: Option<String>,
    raw: Option<String>,
}

impl Wire {
    fn into_envelope(self) -> Result<Envelope, serde_json::Error> {
        fn required<T>(v: Option<T>, field: &'static str) -> Result<T, serde_json::Error> {
            v.ok_or_else(|| serde::de::Error::missing_field(field))
        }
        let load_id = self.load_id;
        Ok(match self.kind {
            Kind::Profil => Envelope::Profil {
                load_id,
                source: required(self.source, "source")?,
                record: required(self.record, "record")?,
            },
            Kind::Facture => Envelope::Facture {
                load_id,
                source: required(self.source, "source")?,
                record: required(self.record, "record")?,
                freelance_id: self.freelance_id,
            },
            Kind::FinChargement => Envelope::FinChargement {
                load_id,
                files: required(self.files, "files")?,
            },
            Kind::Rejet => Envelope::Rejet {
                load_id,
                source: required(self.source, "source")?,
                rule: required(self.rule, "rule")?,
                message: required(self.message, "message")?,
                raw: required(self.raw, "raw")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn src() -> SourceRef {
        SourceRef {
            file: "factures.csv".into(),
            line: 2,
        }
    }

    #[test]
    fn wire_format() {
        let e = Envelope::Facture {
            load_id: "L1".into(),
            source: src(),
            record: serde_json::from_value(
                json!({"freelance": "Dupont", "montant": "4500€", "date": "Oct-2025"}),
            )
            .unwrap(),
            freelance_id: None,
        };
        let s = String::from_utf8(e.to_bytes()).unwrap();
        assert_eq!(
            s,
            r#"{"kind":"facture","load_id":"L1","source":{"file":"factures.csv","line":2},"record":{"freelance":"Dupont","montant":"4500€","date":"Oct-2025"}}"#
        );
        assert_eq!(Envelope::from_bytes(s.as_bytes()).unwrap(), e);

        let f = Envelope::FinChargement {
            load_id: "L1".into(),
            files: vec!["a.json".into()],
        };
        assert_eq!(
            String::from_utf8(f.to_bytes()).unwrap(),
            r#"{"kind":"fin_chargement","load_id":"L1","files":["a.json"]}"#
        );
        assert_eq!(f.source(), None);
        assert_eq!(f.load_id(), "L1");

        let r = Envelope::Rejet {
            load_id: "L2".into(),
            source: src(),
            rule: RuleCode::InvalidCsv,
            message: "line 2 has 4 fields, the header 3".into(),
            raw: "a,b,c,d".into(),
        };
        let v: Value = serde_json::from_slice(&r.to_bytes()).unwrap();
        assert_eq!(v["kind"], "rejet");
        assert_eq!(v["rule"], "invalid_csv");
        assert_eq!(r.source(), Some(&src()));

        let p: Envelope = Envelope::from_bytes(
            br#"{"kind":"profil","load_id":"x","source":{"file":"p.json","line":1},"record":{"nom":"Dupont"}}"#,
        )
        .unwrap();
        assert!(matches!(p, Envelope::Profil { .. }));
        let with_id = Envelope::from_bytes(
            br#"{"kind":"facture","load_id":"x","source":{"file":"f.csv","line":9},"record":{},"freelance_id":4}"#,
        )
        .unwrap();
        assert!(matches!(
            with_id,
            Envelope::Facture {
                freelance_id: Some(4),
                ..
            }
        ));
        assert!(Envelope::from_bytes(b"{\"kind\":\"autre\"}").is_err());
        let missing = Envelope::from_bytes(br#"{"kind":"profil","load_id":"x","record":{}}"#);
        assert!(
            missing
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("`source`"),
            "{missing:?}"
        );
        let missing = Envelope::from_bytes(br#"{"kind":"fin_chargement","load_id":"x"}"#);
        assert!(missing.is_err());
        assert!(Envelope::from_bytes(b"not json").is_err());
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            (-100_000_000_000i64..100_000_000_000).prop_map(|c| json!(c as f64 / 100.0)),
            any::<String>().prop_map(Value::String),
        ]
    }

    fn record() -> impl Strategy<Value = Map<String, Value>> {
        proptest::collection::vec((any::<String>(), json_leaf()), 0..6)
            .prop_map(|kv| kv.into_iter().collect())
    }

    fn source() -> impl Strategy<Value = SourceRef> {
        (any::<String>(), any::<u64>()).prop_map(|(file, line)| SourceRef { file, line })
    }

    fn envelope() -> impl Strategy<Value = Envelope> {
        let rule = proptest::sample::select(RuleCode::ALL.to_vec());
        prop_oneof![
            (any::<String>(), source(), record()).prop_map(|(load_id, source, record)| {
                Envelope::Profil {
                    load_id,
                    source,
                    record,
                }
            }),
            (
                any::<String>(),
                source(),
                record(),
                proptest::option::of(any::<i64>())
            )
                .prop_map(|(load_id, source, record, freelance_id)| {
                    Envelope::Facture {
                        load_id,
                        source,
                        record,
                        freelance_id,
                    }
                }),
            (
                any::<String>(),
                proptest::collection::vec(any::<String>(), 0..4)
            )
                .prop_map(|(load_id, files)| Envelope::FinChargement { load_id, files }),
            (
                any::<String>(),
                source(),
                rule,
                any::<String>(),
                any::<String>()
            )
                .prop_map(|(load_id, source, rule, message, raw)| Envelope::Rejet {
                    load_id,
                    source,
                    rule,
                    message,
                    raw
                }),
        ]
    }

    proptest! {
        #[test]
        fn roundtrip_through_bytes(e in envelope()) {
            prop_assert_eq!(Envelope::from_bytes(&e.to_bytes()).unwrap(), e);
        }
    }
}
