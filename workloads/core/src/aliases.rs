//! Header and key folding, and the field aliases of contract 1.1 (profiles) and 1.2 (invoices).
//!
//! A header is recognised when its [`fold_key`] equals the folded canonical name or one of the folded
//! aliases listed in the contract; nothing else is guessed (e.g. `e-mail` is not an alias of `email`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::thread::LocalKey;

/// Keys already folded and looked up on this thread. Every record of a file repeats the same few keys, and
/// folding them again was a tenth of a worker's time.
type Memo<F> = RefCell<HashMap<String, Option<F>>>;

thread_local! {
    static PROFILE_MEMO: Memo<ProfileField> = RefCell::default();
    static INVOICE_MEMO: Memo<InvoiceField> = RefCell::default();
}

/// Bound on a memo, so that records with ever-new keys cannot grow it without limit.
const MEMO_LIMIT: usize = 1024;

fn memoized<F: Copy + 'static>(
    memo: &'static LocalKey<Memo<F>>,
    key: &str,
    lookup: fn(&str) -> Option<F>,
) -> Option<F> {
    memo.with(|m| {
        if let Some(&f) = m.borrow().get(key) {
            return f;
        }
        let f = lookup(key);
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_LIMIT {
            m.clear();
        }
        m.insert(key.to_owned(), f);
        f
    })
}

/// Folds one already lower-cased character to ASCII when it is a Latin-1 / Latin Extended-A letter with a
/// diacritic (or a ligature); combining diacritical marks (U+0300..U+036F, as found in decomposed text) fold
/// to nothing; every other character is kept.
fn push_folded(c: char, out: &mut String) {
    let s: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        '\u{300}'..='\u{36f}' => "",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(s);
}

/// Lower-cases and strips accents (`Échéance` -> `echeance`, `Œuvre` -> `oeuvre`), nothing else.
pub fn fold_accents(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        push_folded(c, &mut out);
    }
    out
}

/// Folds a header or key for comparison: trims, drops a byte-order mark, lower-cases, strips accents, and turns
/// every run of white space, `-` and `_` into a single `_` (`Tarif jour` -> `tarif_jour`,
/// ` Date-Inscription ` -> `date_inscription`). Idempotent.
pub fn fold_key(s: &str) -> String {
    let folded = fold_accents(s.replace('\u{feff}', "").trim());
    let mut out = String::with_capacity(folded.len());
    let mut in_sep = false;
    for c in folded.chars() {
        if c.is_whitespace() || c == '-' || c == '_' {
            if !in_sep {
                out.push('_');
            }
            in_sep = true;
        } else {
            out.push(c);
            in_sep = false;
        }
    }
    out
}

/// A field of a freelancer profile (contract 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileField {
    Id,
    Nom,
    Prenom,
    Email,
    Competences,
    TarifJour,
    Ville,
    Statut,
    DateInscription,
}

impl ProfileField {
    /// Every field, in contract order.
    pub const ALL: &'static [ProfileField] = &[
        ProfileField::Id,
        ProfileField::Nom,
        ProfileField::Prenom,
        ProfileField::Email,
        ProfileField::Competences,
        ProfileField::TarifJour,
        ProfileField::Ville,
        ProfileField::Statut,
        ProfileField::DateInscription,
    ];

    /// The canonical column name.
    pub fn canonical(&self) -> &'static str {
        match self {
            ProfileField::Id => "id",
            ProfileField::Nom => "nom",
            ProfileField::Prenom => "prenom",
            ProfileField::Email => "email",
            ProfileField::Competences => "competences",
            ProfileField::TarifJour => "tarif_jour",
            ProfileField::Ville => "ville",
            ProfileField::Statut => "statut",
            ProfileField::DateInscription => "date_inscription",
        }
    }

    /// The aliases of contract 1.1, folded (the canonical name is not repeated here).
    pub fn aliases(&self) -> &'static [&'static str] {
        match self {
            ProfileField::Id => &["freelance_id", "id_freelance"],
            ProfileField::Nom => &["name", "last_name"],
            ProfileField::Prenom => &["first_name"],
            ProfileField::Email => &["mail"],
            // `compétences` folds to the canonical name.
            ProfileField::Competences => &["skills"],
            ProfileField::TarifJour => &["tjm", "daily_rate", "tarif"],
            ProfileField::Ville => &["city"],
            ProfileField::Statut => &["status"],
            ProfileField::DateInscription => &["signup_date", "created_at"],
        }
    }
}

/// Maps a profile key (any case, accents optional, surrounding spaces ignored) to its field.
pub fn profile_field(header: &str) -> Option<ProfileField> {
    memoized(&PROFILE_MEMO, header, profile_field_uncached)
}

fn profile_field_uncached(header: &str) -> Option<ProfileField> {
    let k = fold_key(header);
    ProfileField::ALL
        .iter()
        .copied()
        .find(|f| f.canonical() == k || f.aliases().contains(&k.as_str()))
}

/// A column of an invoice file (contract 1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceField {
    FactureId,
    FreelanceId,
    /// The `freelance` column: the freelancer's `nom`, resolved to an id by the loader.
    FreelanceName,
    Montant,
    Date,
    Echeance,
    Statut,
    Jours,
    Client,
}

impl InvoiceField {
    /// Every field, in contract order.
    pub const ALL: &'static [InvoiceField] = &[
        InvoiceField::FactureId,
        InvoiceField::FreelanceId,
        InvoiceField::FreelanceName,
        InvoiceField::Montant,
        InvoiceField::Date,
        InvoiceField::Echeance,
        InvoiceField::Statut,
        InvoiceField::Jours,
        InvoiceField::Client,
    ];

    /// The canonical column name.
    pub fn canonical(&self) -> &'static str {
        match self {
            InvoiceField::FactureId => "facture_id",
            InvoiceField::FreelanceId => "freelance_id",
            InvoiceField::FreelanceName => "freelance",
            InvoiceField::Montant => "montant",
            InvoiceField::Date => "date",
            InvoiceField::Echeance => "echeance",
            InvoiceField::Statut => "statut",
            InvoiceField::Jours => "jours",
            InvoiceField::Client => "client",
        }
    }

    /// The aliases of contract 1.2, folded (the canonical name is not repeated here). Note that for invoices
    /// `id` is the invoice id, not the freelancer's.
    pub fn aliases(&self) -> &'static [&'static str] {
        match self {
            InvoiceField::FactureId => &["id_facture", "invoice_id", "id"],
            InvoiceField::FreelanceId => &["id_freelance"],
            InvoiceField::FreelanceName => &[],
            InvoiceField::Montant => &["amount"],
            InvoiceField::Date => &["date_facture", "invoice_date"],
            // `échéance` folds to the canonical name.
            InvoiceField::Echeance => &["due_date"],
            InvoiceField::Statut => &["status"],
            InvoiceField::Jours => &["days"],
            InvoiceField::Client => &["customer"],
        }
    }
}

/// Maps an invoice header (any case, accents optional, surrounding spaces ignored) to its field.
pub fn invoice_field(header: &str) -> Option<InvoiceField> {
    memoized(&INVOICE_MEMO, header, invoice_field_uncached)
}

fn invoice_field_uncached(header: &str) -> Option<InvoiceField> {
    let k = fold_key(header);
    InvoiceField::ALL
        .iter()
        .copied()
        .find(|f| f.canonical() == k || f.aliases().contains(&k.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding() {
        assert_eq!(fold_key("  Tarif jour "), "tarif_jour");
        assert_eq!(fold_key("Compétences"), "competences");
        assert_eq!(fold_key("ÉCHÉANCE"), "echeance");
        assert_eq!(fold_key("Date-Inscription"), "date_inscription");
        assert_eq!(fold_key("date - inscription"), "date_inscription");
        assert_eq!(fold_key("\u{feff}freelance"), "freelance");
        assert_eq!(fold_key("Pre\u{301}nom"), "prenom");
        assert_eq!(fold_key("prénom\u{a0}usuel"), "prenom_usuel");
        assert_eq!(fold_key("Œuvre Straße"), "oeuvre_strasse");
        assert_eq!(
            fold_key("ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŸ"),
            "aaaaaaceeeeiiiinoooooouuuuyy"
        );
        assert_eq!(fold_accents("Août"), "aout");
        assert_eq!(fold_key(""), "");
    }

    /// Every name of contract 1.1 with the field it must map to.
    const PROFILE_TABLE: &[(&str, ProfileField)] = &[
        ("id", ProfileField::Id),
        ("freelance_id", ProfileField::Id),
        ("id_freelance", ProfileField::Id),
        ("nom", ProfileField::Nom),
        ("name", ProfileField::Nom),
        ("last_name", ProfileField::Nom),
        ("prenom", ProfileField::Prenom),
        ("prénom", ProfileField::Prenom),
        ("first_name", ProfileField::Prenom),
        ("email", ProfileField::Email),
        ("mail", ProfileField::Email),
        ("competences", ProfileField::Competences),
        ("compétences", ProfileField::Competences),
        ("skills", ProfileField::Competences),
        ("tarif_jour", ProfileField::TarifJour),
        ("tarif jour", ProfileField::TarifJour),
        ("tjm", ProfileField::TarifJour),
        ("daily_rate", ProfileField::TarifJour),
        ("tarif", ProfileField::TarifJour),
        ("ville", ProfileField::Ville),
        ("city", ProfileField::Ville),
        ("statut", ProfileField::Statut),
        ("status", ProfileField::Statut),
        ("date_inscription", ProfileField::DateInscription),
        ("signup_date", ProfileField::DateInscription),
        ("created_at", ProfileField::DateInscription),
    ];

    const INVOICE_TABLE: &[(&str, InvoiceField)] = &[
        ("facture_id", InvoiceField::FactureId),
        ("id_facture", InvoiceField::FactureId),
        ("invoice_id", InvoiceField::FactureId),
        ("id", InvoiceField::FactureId),
        ("freelance_id", InvoiceField::FreelanceId),
        ("id_freelance", InvoiceField::FreelanceId),
        ("freelance", InvoiceField::FreelanceName),
        ("montant", InvoiceField::Montant),
        ("amount", InvoiceField::Montant),
        ("date", InvoiceField::Date),
        ("date_facture", InvoiceField::Date),
        ("invoice_date", InvoiceField::Date),
        ("echeance", InvoiceField::Echeance),
        ("échéance", InvoiceField::Echeance),
        ("due_date", InvoiceField::Echeance),
        ("statut", InvoiceField::Statut),
        ("status", InvoiceField::Statut),
        ("jours", InvoiceField::Jours),
        ("days", InvoiceField::Jours),
        ("client", InvoiceField::Client),
        ("customer", InvoiceField::Client),
    ];

    /// Spellings of one name: as is, upper case, capitalised, padded, with `_` as a space or a dash.
    fn variants(name: &str) -> Vec<String> {
        let mut cap = name.to_string();
        if let Some(first) = name.chars().next() {
            cap = first.to_uppercase().collect::<String>() + &name[first.len_utf8()..];
        }
        vec![
            name.to_string(),
            name.to_uppercase(),
            cap,
            format!("  {name}\t"),
            name.replace('_', " "),
            name.replace('_', "-").to_uppercase(),
        ]
    }

    #[test]
    fn every_profile_alias() {
        for &(name, field) in PROFILE_TABLE {
            for v in variants(name) {
                assert_eq!(profile_field(&v), Some(field), "{v:?}");
            }
        }
        for f in ProfileField::ALL {
            assert_eq!(profile_field(f.canonical()), Some(*f));
            for a in f.aliases() {
                assert!(
                    PROFILE_TABLE.contains(&(a, *f)),
                    "alias {a} missing from the test table"
                );
            }
        }
        assert_eq!(ProfileField::TarifJour.canonical(), "tarif_jour");
        assert_eq!(
            ProfileField::DateInscription.canonical(),
            "date_inscription"
        );
    }

    #[test]
    fn every_invoice_alias() {
        for &(name, field) in INVOICE_TABLE {
            for v in variants(name) {
                assert_eq!(invoice_field(&v), Some(field), "{v:?}");
            }
        }
        for f in InvoiceField::ALL {
            assert_eq!(invoice_field(f.canonical()), Some(*f));
            for a in f.aliases() {
                assert!(
                    INVOICE_TABLE.contains(&(a, *f)),
                    "alias {a} missing from the test table"
                );
            }
        }
        assert_eq!(InvoiceField::FreelanceName.canonical(), "freelance");
    }

    #[test]
    fn accented_and_odd_spellings() {
        assert_eq!(
            profile_field("COMPÉTENCES"),
            Some(ProfileField::Competences)
        );
        assert_eq!(profile_field("Prénom"), Some(ProfileField::Prenom));
        assert_eq!(profile_field("Date d'inscription"), None);
        assert_eq!(invoice_field("Échéance"), Some(InvoiceField::Echeance));
        assert_eq!(
            invoice_field(" Freelance "),
            Some(InvoiceField::FreelanceName)
        );
        assert_eq!(invoice_field("ID"), Some(InvoiceField::FactureId));
        assert_eq!(profile_field("ID"), Some(ProfileField::Id));
    }

    #[test]
    fn unknown_headers() {
        for h in [
            "",
            "foo",
            "e-mail_pro",
            "montant_ht",
            "freelancer",
            "idd",
            "nom2",
        ] {
            assert_eq!(profile_field(h), None, "{h}");
            assert_eq!(invoice_field(h), None, "{h}");
        }
        assert_eq!(profile_field("montant"), None);
        assert_eq!(invoice_field("nom"), None);
    }

    proptest! {
        #[test]
        fn fold_key_idempotent(s in any::<String>()) {
            let once = fold_key(&s);
            prop_assert_eq!(fold_key(&once), once.clone());
        }

        #[test]
        fn fold_key_idempotent_latin(s in "[ a-zA-Z_\\-àéèçÉÈÀŒœßÿŸ\u{a0}\u{301}\u{feff}]{0,20}") {
            let once = fold_key(&s);
            prop_assert_eq!(fold_key(&once), once.clone());
            prop_assert!(!once.contains("__"));
        }

        /// The memo answers as the lookup does, on a first and a repeated call, and across its clearing.
        #[test]
        fn memoized_lookups_agree(keys in proptest::collection::vec(
            "[ a-zA-Z_\\-éÉ]{0,12}|montant|Date|tarif jour|E-mail|compétences", 1..40)) {
            for k in keys.iter().chain(keys.iter()) {
                prop_assert_eq!(invoice_field(k), invoice_field_uncached(k));
                prop_assert_eq!(profile_field(k), profile_field_uncached(k));
            }
        }
    }

    #[test]
    fn memo_is_bounded() {
        for i in 0..3 * MEMO_LIMIT {
            assert_eq!(invoice_field(&format!("col{i}")), None);
            assert!(INVOICE_MEMO.with(|m| m.borrow().len()) <= MEMO_LIMIT);
        }
        assert_eq!(invoice_field("Montant"), Some(InvoiceField::Montant));
        assert!(INVOICE_MEMO.with(|m| m.borrow().len()) <= MEMO_LIMIT);
    }
}
