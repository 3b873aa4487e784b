//! Freelancer profile validation (contract 1.1 and 2).
//!
//! Rules chosen where the contract is silent:
//! - keys are matched through [`profile_field`]; when two keys give the same field (`nom` and `name`), the
//!   canonical one wins, else the first one; the losing key is kept in `extra` under its original name, and so
//!   is every unknown key (nothing is dropped);
//! - rules are checked in the order id, nom, email, tarif_jour, date_inscription, and the first failure is
//!   the reject;
//! - `id` is a JSON integer (or an integral float such as `12.0`) or a string of digits, >= 1; anything else
//!   (absent, null, empty, `abc`, `0`, `-3`, `1.5`) is `missing_field`, since the record has no usable key;
//! - `nom`, `prenom`, `ville` are trimmed scalars (a number is taken as written); `prenom` / `ville` empty ->
//!   `None`; a `nom` that is an array or object is `missing_field`;
//! - `email` is trimmed and lower-cased; it is plausible when it has exactly one `@`, no white space or control
//!   character, a non-empty local part, and a domain of at least two non-empty dot-separated labels whose last
//!   label (the TLD) has at least 2 letters and only letters; anything else is `invalid_email`;
//! - `competences` is an array or a single string; every string is split on `,` and `;`, trimmed, empties
//!   dropped, duplicates removed case-insensitively keeping the first spelling, order kept. Numbers and
//!   booleans count as their text; nested arrays / objects are not skills and are kept in
//!   `extra["competences_ignorees"]`;
//! - `tarif_jour` is a JSON number or a money string (contract 1.3), required (`missing_field`), and must be a
//!   valid amount > 0 (`invalid_amount`);
//! - `statut`: `disponible` / `available` and `en_mission` / `en mission` / `on_mission` / `on mission` (any
//!   case, accents optional); an unrecognised value is not a reject: `statut` is `None` and the raw value is
//!   kept in `extra["statut_inconnu"]`;
//! - `date_inscription` is optional (absent / null / empty -> `None`); otherwise it must be a date of contract
//!   1.4, else `invalid_date`.
//!
//! Rejects name the canonical field (`tarif_jour`, even when the key was `tjm`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aliases::{fold_key, profile_field, ProfileField};
use crate::decimal::{parse_money, Dec2};
use crate::fields::{date_value, positive_dec2, positive_int, raw, scalar_text, Picked};
use crate::reject::{Reject, RuleCode};

/// Whether a freelancer is free or on a mission, as declared in the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileStatus {
    Disponible,
    EnMission,
}

impl ProfileStatus {
    /// `disponible` or `en_mission`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileStatus::Disponible => "disponible",
            ProfileStatus::EnMission => "en_mission",
        }
    }

    /// Recognises the spellings of contract 1.1 (any case, accents optional, space / dash / underscore alike).
    pub fn from_text(s: &str) -> Option<ProfileStatus> {
        match fold_key(s).as_str() {
            "disponible" | "available" => Some(ProfileStatus::Disponible),
            "en_mission" | "on_mission" => Some(ProfileStatus::EnMission),
            _ => None,
        }
    }
}

/// A valid freelancer profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub nom: String,
    pub prenom: Option<String>,
    pub email: String,
    pub competences: Vec<String>,
    pub tarif_jour: Dec2,
    pub ville: Option<String>,
    pub statut: Option<ProfileStatus>,
    pub date_inscription: Option<NaiveDate>,
    /// Unknown keys, losing duplicate keys, `statut_inconnu`, `competences_ignorees`.
    pub extra: Map<String, Value>,
}

/// Key of `extra` holding an unrecognised `statut`.
pub const EXTRA_STATUT_INCONNU: &str = "statut_inconnu";
/// Key of `extra` holding `competences` items that are not text.
pub const EXTRA_COMPETENCES_IGNOREES: &str = "competences_ignorees";

/// Plausibility check of a (trimmed, lower-cased) e-mail address; see the module doc.
pub fn is_plausible_email(email: &str) -> bool {
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && tld.chars().count() >= 2
        && tld.chars().all(char::is_alphabetic)
}

/// Normalises a `competences` value (see the module doc); returns the skills and the ignored items.
pub fn normalize_competences(v: &Value) -> (Vec<String>, Vec<Value>) {
    let mut skills: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut ignored = Vec::new();
    let mut add_text = |text: &str, skills: &mut Vec<String>| {
        for part in text.split([',', ';']) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let key = p.to_lowercase();
            if !seen.contains(&key) {
                seen.push(key);
                skills.push(p.to_string());
            }
        }
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::Null => {}
            Value::Array(_) | Value::Object(_) => ignored.push(item.clone()),
            scalar => {
                if let Some(t) = scalar_text(scalar) {
                    add_text(&t, &mut skills);
                }
            }
        }
    }
    (skills, ignored)
}

/// Validates one profile object (keys in any alias of contract 1.1); see the module doc for every rule.
pub fn validate_profile(obj: &Map<String, Value>) -> Result<Profile, Reject> {
    let p = Picked::pick(obj, profile_field, |f| f.canonical());

    // id
    let id = match p.get(ProfileField::Id) {
        None => return Err(Reject::missing("id")),
        Some(v) => positive_int(v).ok_or_else(|| {
            Reject::bad_value(
                RuleCode::MissingField,
                "id",
                &raw(v),
                "is not a positive integer",
            )
        })?,
    };

    // nom
    let nom = match p.text(ProfileField::Nom) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(Reject::missing("nom")),
        Err(raw) => {
            return Err(Reject::bad_value(
                RuleCode::MissingField,
                "nom",
                &raw,
                "is not a text",
            ))
        }
    };

    // email
    let email = match p.get(ProfileField::Email) {
        None => return Err(Reject::missing("email")),
        Some(Value::String(s)) => {
            let e = s.trim().to_lowercase();
            if !is_plausible_email(&e) {
                return Err(Reject::bad_value(
                    RuleCode::InvalidEmail,
                    "email",
                    s,
                    "is not a plausible e-mail address",
                ));
            }
            e
        }
        Some(other) => {
            return Err(Reject::bad_value(
                RuleCode::InvalidEmail,
                "email",
                &raw(other),
                "is not a plausible e-mail address",
            ))
        }
    };

    // tarif_jour
    let tarif_jour = match p.get(ProfileField::TarifJour) {
        None => return Err(Reject::missing("tarif_jour")),
        Some(v) => positive_dec2("tarif_jour", v, parse_money, "amount")?,
    };

    // date_inscription
    let date_inscription = match p.get(ProfileField::DateInscription) {
        None => None,
        Some(v) => Some(date_value("date_inscription", v)?),
    };

    let mut extra = Map::new();
    for (k, v) in &p.rest {
        extra.insert((*k).to_string(), (*v).clone());
    }

    let competences = match p.get(ProfileField::Competences) {
        None => Vec::new(),
        Some(v) => {
            let (skills, ignored) = normalize_competences(v);
            if !ignored.is_empty() {
                extra.insert(
                    EXTRA_COMPETENCES_IGNOREES.to_string(),
                    Value::Array(ignored),
                );
            }
            skills
        }
    };

    let statut = match p.get(ProfileField::Statut) {
        None => None,
        Some(v) => {
            let s = scalar_text(v).and_then(|t| ProfileStatus::from_text(&t));
            if s.is_none() {
                extra.insert(EXTRA_STATUT_INCONNU.to_string(), v.clone());
            }
            s
        }
    };

    let optional_text = |f| p.text(f).unwrap_or_else(Some);

    Ok(Profile {
        id,
        nom,
        prenom: optional_text(ProfileField::Prenom),
        email,
        competences,
        tarif_jour,
        ville: optional_text(ProfileField::Ville),
        statut,
        date_inscription,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn ok(v: Value) -> Profile {
        validate_profile(&obj(v.clone())).unwrap_or_else(|r| panic!("{v}: {r}"))
    }

    fn rej(v: Value) -> Reject {
        match validate_profile(&obj(v.clone())) {
            Ok(p) => panic!("{v} should be rejected, got {p:?}"),
            Err(r) => r,
        }
    }

    fn base() -> Value {
        json!({"id": 1, "email": "dupont@example.com", "nom": "Dupont", "tarif_jour": "450€"})
    }

    fn with(k: &str, v: Value) -> Value {
        let mut b = base();
        b[k] = v;
        b
    }

    fn without(k: &str) -> Value {
        let mut b = obj(base());
        b.remove(k);
        Value::Object(b)
    }

    #[test]
    fn dupont_sample() {
        let p = ok(
            json!({"id": 1, "email":"dupont@example.com", "nom": "Dupont", "compétences": ["Python"], "tarif_jour": "450€"}),
        );
        assert_eq!(p.id, 1);
        assert_eq!(p.nom, "Dupont");
        assert_eq!(p.email, "dupont@example.com");
        assert_eq!(p.tarif_jour, Dec2(45_000));
        assert_eq!(p.tarif_jour.to_string(), "450.00");
        assert_eq!(p.competences, vec!["Python".to_string()]);
        assert_eq!(p.prenom, None);
        assert_eq!(p.ville, None);
        assert_eq!(p.statut, None);
        assert_eq!(p.date_inscription, None);
        assert!(p.extra.is_empty(), "{:?}", p.extra);
    }

    #[test]
    fn original_sample_is_rejected() {
        let r = rej(json!({"nom": "Dupont", "compétences": ["Python"], "tarif_jour": "450€"}));
        assert_eq!(r.rule, RuleCode::MissingField);
        assert_eq!(r.field.as_deref(), Some("id"));
        let r =
            rej(json!({"id": 1, "nom": "Dupont", "compétences": ["Python"], "tarif_jour": "450€"}));
        assert_eq!(r.rule, RuleCode::MissingField);
        assert_eq!(r.field.as_deref(), Some("email"));
        assert_eq!(r.message, "email is missing");
    }

    #[test]
    fn aliases_and_full_record() {
        let p = ok(json!({
            "Freelance_ID": "42", "Name": " Martin ", "First_Name": "Léa", "MAIL": " Lea.Martin@Example.FR ",
            "skills": "Rust, SQL; rust ,, Python", "TJM": 612.5, "City": "Lyon", "Status": "On mission",
            "signup_date": "15/01/2024", "linkedin": "lea-m"
        }));
        assert_eq!(p.id, 42);
        assert_eq!(p.nom, "Martin");
        assert_eq!(p.prenom.as_deref(), Some("Léa"));
        assert_eq!(p.email, "lea.martin@example.fr");
        assert_eq!(p.competences, vec!["Rust", "SQL", "Python"]);
        assert_eq!(p.tarif_jour, Dec2(61_250));
        assert_eq!(p.ville.as_deref(), Some("Lyon"));
        assert_eq!(p.statut, Some(ProfileStatus::EnMission));
        assert_eq!(p.date_inscription, NaiveDate::from_ymd_opt(2024, 1, 15));
        assert_eq!(p.extra.get("linkedin"), Some(&json!("lea-m")));
        assert_eq!(p.extra.len(), 1);
    }

    #[test]
    fn other_aliases() {
        let p = ok(
            json!({"id_freelance": 7, "last_name": "X", "email": "x@y.io", "daily_rate": "1 000,00 €",
            "created_at": "2025-03-01T09:00:00Z", "competences": [], "statut": "Disponible"}),
        );
        assert_eq!(p.id, 7);
        assert_eq!(p.tarif_jour, Dec2(100_000));
        assert_eq!(p.date_inscription, NaiveDate::from_ymd_opt(2025, 3, 1));
        assert!(p.competences.is_empty());
        assert_eq!(p.statut, Some(ProfileStatus::Disponible));
        let p = ok(
            json!({"id": 8, "nom": "Y", "email": "y@y.io", "tarif": "EUR 300", "Tarif Jour": "400"}),
        );
        assert_eq!(
            p.tarif_jour,
            Dec2(40_000),
            "canonical tarif_jour wins over the alias tarif"
        );
        assert_eq!(p.extra.get("tarif"), Some(&json!("EUR 300")));
    }

    #[test]
    fn canonical_key_wins() {
        let p = ok(
            json!({"name": "Alias", "id": 3, "nom": "Canon", "email": "a@b.co", "tarif_jour": 1}),
        );
        assert_eq!(p.nom, "Canon");
        assert_eq!(p.extra.get("name"), Some(&json!("Alias")));
        let p = ok(
            json!({"nom": "Canon", "id": 3, "name": "Alias", "email": "a@b.co", "tarif_jour": 1}),
        );
        assert_eq!(p.nom, "Canon");
        assert_eq!(p.extra.get("name"), Some(&json!("Alias")));
        let p =
            ok(json!({"mail": "first@b.co", "id": 3, "nom": "N", "e_mail": "x", "tarif_jour": 1}));
        assert_eq!(p.email, "first@b.co");
        assert_eq!(p.extra.get("e_mail"), Some(&json!("x")));
    }

    #[test]
    fn ids() {
        assert_eq!(ok(with("id", json!(" 12 "))).id, 12);
        assert_eq!(ok(with("id", json!("+12"))).id, 12);
        assert_eq!(ok(with("id", json!(12.0))).id, 12);
        assert_eq!(ok(with("id", json!(i64::MAX))).id, i64::MAX);
        for bad in [json!(null), json!(""), json!("  ")] {
            let r = rej(with("id", bad));
            assert_eq!(
                (r.rule, r.message.as_str()),
                (RuleCode::MissingField, "id is missing")
            );
        }
        let r = rej(without("id"));
        assert_eq!(r.rule, RuleCode::MissingField);
        for bad in [
            json!(0),
            json!(-3),
            json!("abc"),
            json!("1.5"),
            json!(1.5),
            json!(true),
            json!([1]),
            json!("99999999999999999999"),
            json!(u64::MAX),
        ] {
            let r = rej(with("id", bad.clone()));
            assert_eq!(r.rule, RuleCode::MissingField, "{bad}");
            assert!(r.message.starts_with("id \""), "{}", r.message);
            assert!(
                r.message.ends_with("is not a positive integer"),
                "{}",
                r.message
            );
        }
        assert_eq!(
            rej(with("id", json!("abc"))).message,
            "id \"abc\" is not a positive integer"
        );
    }

    #[test]
    fn noms() {
        for bad in [json!(""), json!("   "), json!(null)] {
            let r = rej(with("nom", bad));
            assert_eq!(
                (r.rule, r.field.as_deref()),
                (RuleCode::MissingField, Some("nom"))
            );
        }
        assert_eq!(rej(without("nom")).rule, RuleCode::MissingField);
        assert_eq!(rej(with("nom", json!(["a"]))).rule, RuleCode::MissingField);
    }

    #[test]
    fn emails() {
        for good in [
            "a@b.co",
            "first.last+tag@sub.example.com",
            "UPPER@EXAMPLE.COM",
            " x@y.fr ",
            "é@exemple.fr",
        ] {
            assert_eq!(
                ok(with("email", json!(good))).email,
                good.trim().to_lowercase()
            );
        }
        for bad in [
            "abc",
            "a@b",
            "a@b.c",
            "a@@b.co",
            "a@b@c.co",
            "@b.co",
            "a @b.co",
            "a@b .co",
            "a@.co",
            "a@b..co",
            "a@b.co.",
            "a@b.c0",
            "a@b.12",
            "a\tb@c.co",
        ] {
            let r = rej(with("email", json!(bad)));
            assert_eq!(r.rule, RuleCode::InvalidEmail, "{bad}");
            assert_eq!(r.field.as_deref(), Some("email"));
            assert!(r.message.contains(&format!("{bad:?}")), "{}", r.message);
        }
        assert_eq!(rej(with("email", json!(5))).rule, RuleCode::InvalidEmail);
        assert_eq!(rej(with("email", json!(""))).rule, RuleCode::MissingField);
        assert_eq!(rej(without("email")).rule, RuleCode::MissingField);
    }

    #[test]
    fn competences() {
        let c = |v: Value| ok(with("competences", v)).competences;
        assert_eq!(
            c(json!(["Python", " SQL ", "python", "", "Sql", "Rust"])),
            vec!["Python", "SQL", "Rust"]
        );
        assert_eq!(c(json!("Python, SQL ,python")), vec!["Python", "SQL"]);
        assert_eq!(c(json!("Python;SQL")), vec!["Python", "SQL"]);
        assert_eq!(c(json!("")), Vec::<String>::new());
        assert_eq!(c(json!(null)), Vec::<String>::new());
        assert_eq!(c(json!(["C", null, 3])), vec!["C", "3"]);
        assert_eq!(c(json!(["Éco", "éco", "ÉCO"])), vec!["Éco"]);
        let p = ok(with("competences", json!(["Go", ["nested"], {"a": 1}])));
        assert_eq!(p.competences, vec!["Go"]);
        assert_eq!(
            p.extra.get(EXTRA_COMPETENCES_IGNOREES),
            Some(&json!([["nested"], {"a": 1}]))
        );
    }

    #[test]
    fn tarifs() {
        let t = |v: Value| ok(with("tarif_jour", v)).tarif_jour;
        assert_eq!(t(json!(450)), Dec2(45_000));
        assert_eq!(t(json!(450.5)), Dec2(45_050));
        assert_eq!(t(json!("1 200 €")), Dec2(120_000));
        assert_eq!(t(json!("EUR 99")), Dec2(9_900));
        assert_eq!(t(json!("0.01")), Dec2(1));
        for bad in [json!(""), json!(null)] {
            let r = rej(with("tarif_jour", bad));
            assert_eq!(
                (r.rule, r.field.as_deref()),
                (RuleCode::MissingField, Some("tarif_jour"))
            );
        }
        assert_eq!(rej(without("tarif_jour")).rule, RuleCode::MissingField);
        for bad in [
            json!("abc"),
            json!(0),
            json!("-5"),
            json!(-450.0),
            json!("0,00 €"),
            json!("4..5"),
            json!(true),
            json!([450]),
            json!("1e12"),
            json!(1e12),
            json!("0.004"),
        ] {
            let r = rej(with("tarif_jour", bad.clone()));
            assert_eq!(r.rule, RuleCode::InvalidAmount, "{bad}");
            assert_eq!(r.field.as_deref(), Some("tarif_jour"));
        }
        assert_eq!(
            rej(with("tarif_jour", json!("abc"))).message,
            "tarif_jour \"abc\" is not a valid amount"
        );
        assert_eq!(
            rej(with("tarif_jour", json!("-5"))).message,
            "tarif_jour \"-5\" must be greater than 0"
        );
    }

    #[test]
    fn statuts() {
        let s = |v: &str| ok(with("statut", json!(v))).statut;
        for v in [
            "disponible",
            "Disponible",
            "DISPONIBLE ",
            "available",
            "Available",
        ] {
            assert_eq!(s(v), Some(ProfileStatus::Disponible), "{v}");
        }
        for v in [
            "en_mission",
            "en mission",
            "En Mission",
            "on_mission",
            "on mission",
            "ON-MISSION",
            "en-mission",
        ] {
            assert_eq!(s(v), Some(ProfileStatus::EnMission), "{v}");
        }
        assert_eq!(s(""), None);
        let p = ok(with("statut", json!("en congé")));
        assert_eq!(p.statut, None);
        assert_eq!(p.extra.get(EXTRA_STATUT_INCONNU), Some(&json!("en congé")));
        assert_eq!(ProfileStatus::Disponible.as_str(), "disponible");
        assert_eq!(ProfileStatus::EnMission.as_str(), "en_mission");
        assert_eq!(
            serde_json::to_string(&ProfileStatus::EnMission).unwrap(),
            "\"en_mission\""
        );
    }

    #[test]
    fn dates_inscription() {
        let d = |v: Value| ok(with("date_inscription", v)).date_inscription;
        assert_eq!(
            d(json!("2025-10-15")),
            NaiveDate::from_ymd_opt(2025, 10, 15)
        );
        assert_eq!(d(json!("oct. 2025")), NaiveDate::from_ymd_opt(2025, 10, 1));
        assert_eq!(d(json!("")), None);
        assert_eq!(d(json!(null)), None);
        for bad in [json!("2025-13-45"), json!("hier"), json!(20251015)] {
            let r = rej(with("date_inscription", bad));
            assert_eq!(r.rule, RuleCode::InvalidDate);
            assert_eq!(r.field.as_deref(), Some("date_inscription"));
        }
        assert_eq!(
            rej(with("date_inscription", json!("hier"))).message,
            "date_inscription \"hier\" is not a valid date"
        );
    }

    #[test]
    fn precedence() {
        let all_bad = json!({"id": "x", "nom": "", "email": "bad", "tarif_jour": "abc", "date_inscription": "never"});
        assert_eq!(rej(all_bad.clone()).field.as_deref(), Some("id"));
        let mut v = all_bad;
        v["id"] = json!(1);
        assert_eq!(rej(v.clone()).field.as_deref(), Some("nom"));
        v["nom"] = json!("N");
        assert_eq!(rej(v.clone()).rule, RuleCode::InvalidEmail);
        v["email"] = json!("n@n.fr");
        assert_eq!(rej(v.clone()).rule, RuleCode::InvalidAmount);
        v["tarif_jour"] = json!(1);
        assert_eq!(rej(v.clone()).rule, RuleCode::InvalidDate);
        v["date_inscription"] = json!("2020-01-01");
        assert!(validate_profile(&obj(v)).is_ok());
    }

    #[test]
    fn serde_roundtrip() {
        let p = ok(with("statut", json!("available")));
        let s = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Profile>(&s).unwrap(), p);
    }
}
