//! The numbers of every panel, read from the warehouse views (the same ones Grafana and Power BI use).
//!
//! Every query is static SQL with bound parameters; filters are validated into [`Filters`] first.
//! Money and rates are returned as exact decimal strings (`"4500.00"`), counts as integers.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

/// Query parameters of the Financier and Ressources panels, as received.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// First month of the period, `YYYY-MM` (default: 11 months before the last month).
    pub from: Option<String>,
    /// Last month of the period, `YYYY-MM` (default: the month of the warehouse's as-of date).
    pub to: Option<String>,
    /// A skill; freelancers having it (compared case-insensitively). Empty means all.
    pub competence: Option<String>,
}

/// Validated filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Filters {
    /// first day of the first month
    pub from: NaiveDate,
    /// first day of the last month
    pub to: NaiveDate,
    pub competence: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("{field} must be a month written YYYY-MM (e.g. 2025-03), got {value:?}")]
    Month { field: &'static str, value: String },
    #[error("the period must start before it ends: from {from} is after to {to}")]
    Order { from: String, to: String },
    #[error("the period is limited to 120 months")]
    TooLong,
    #[error("competence is limited to 100 characters")]
    Skill,
}

fn month(field: &'static str, value: &str) -> Result<NaiveDate, FilterError> {
    let v = value.trim();
    let ok = v.len() == 7 && v.as_bytes()[4] == b'-';
    ok.then(|| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| FilterError::Month {
            field,
            value: value.to_string(),
        })
}

pub fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .expect("first day of a month")
}

/// A skill filter as received: blank means every skill; at most 100 characters.
pub fn skill(raw: Option<&str>) -> Result<Option<&str>, FilterError> {
    let c = raw.map(str::trim).filter(|c| !c.is_empty());
    if c.is_some_and(|c| c.chars().count() > 100) {
        return Err(FilterError::Skill);
    }
    Ok(c)
}

impl FilterParams {
    /// Checks the parameters; `last_month` is the default end (the month of the as-of date).
    pub fn validate(&self, last_month: NaiveDate) -> Result<Filters, FilterError> {
        fn blank(o: &Option<String>) -> Option<&str> {
            o.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let to = match blank(&self.to) {
            Some(v) => month("to", v)?,
            None => last_month.with_day(1).expect("day 1"),
        };
        let from = match blank(&self.from) {
            Some(v) => month("from", v)?,
            None => add_months(to, -11),
        };
        if from > to {
            return Err(FilterError::Order {
                from: from.format("%Y-%m").to_string(),
                to: to.format("%Y-%m").to_string(),
            });
        }
        if add_months(from, 120) <= to {
            return Err(FilterError::TooLong);
        }
        let competence = skill(self.competence.as_deref())?.map(str::to_string);
        Ok(Filters {
            from,
            to,
            competence,
        })
    }
}

/// The reference date of the indicators (`ff_as_of()`: the master's as-of, else the latest invoice).
pub async fn as_of(pool: &PgPool) -> Result<NaiveDate, sqlx::Error> {
    sqlx::query_scalar("SELECT ff_as_of()")
        .fetch_one(pool)
        .await
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TopFreelance {
    pub freelance_id: i64,
    pub nom: String,
    pub prenom: Option<String>,
    /// revenue over the period, decimal string
    pub ca: String,
    pub jours: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct MonthRevenue {
    /// `YYYY-MM`
    pub periode: String,
    pub ca: String,
    pub jours: String,
    pub nb_factures: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Financier {
    pub filters: Filters,
    pub as_of: NaiveDate,
    /// total revenue over the period (and skill)
    pub ca_total: String,
    /// mean daily rate of the freelancers (having the skill), decimal string; null when there are none
    pub tjm_moyen: Option<String>,
    pub top10: Vec<TopFreelance>,
    /// every month of the period, zero when it has no invoice
    pub revenus_mensuels: Vec<MonthRevenue>,
}

/// The predicate "the row's `competences` include the skill bound at `param`" (null: every row).
/// Only ever called with a literal placeholder such as `"$3"`: the SQL stays static.
fn has_skill(param: &str) -> String {
    format!(
        "({param}::text IS NULL OR EXISTS (SELECT 1 FROM unnest(competences) s \
         WHERE lower(btrim(s)) = lower(btrim({param}::text))))"
    )
}

/// `as_of`: the warehouse's as-of date, already read to validate `f`.
pub async fn financier(
    pool: &PgPool,
    f: &Filters,
    as_of: NaiveDate,
) -> Result<Financier, sqlx::Error> {
    let top10_sql = format!(
        "SELECT freelance_id, nom, prenom, sum(ca)::text AS ca, sum(jours)::text AS jours
         FROM v_ca_freelance_mensuel
         WHERE mois BETWEEN $1 AND $2 AND {}
         GROUP BY freelance_id, nom, prenom
         ORDER BY sum(ca) DESC, freelance_id
         LIMIT 10",
        has_skill("$3")
    );
    let months_sql = format!(
        "SELECT to_char(m.mois, 'YYYY-MM') AS periode,
                coalesce(sum(c.ca), 0)::numeric(16,2)::text AS ca,
                coalesce(sum(c.jours), 0)::numeric(16,2)::text AS jours,
                coalesce(sum(c.nb_factures), 0)::bigint AS nb_factures
         FROM generate_series($1::date, $2::date, interval '1 month') AS m(mois)
         LEFT JOIN v_ca_freelance_mensuel c ON c.mois = m.mois::date AND {}
         GROUP BY m.mois ORDER BY m.mois",
        has_skill("$3")
    );
    let total_sql = format!(
        "SELECT coalesce(sum(ca), 0)::numeric(16,2)::text FROM v_ca_freelance_mensuel
         WHERE mois BETWEEN $1 AND $2 AND {}",
        has_skill("$3")
    );
    let tjm_sql = format!(
        "SELECT round(avg(tarif_jour), 2)::text FROM v_freelances_mission WHERE {}",
        has_skill("$1")
    );
    // independent reads, side by side on the pool
    let (top10, revenus_mensuels, ca_total, tjm_moyen) = futures::try_join!(
        sqlx::query_as::<_, TopFreelance>(&top10_sql)
            .bind(f.from)
            .bind(f.to)
            .bind(&f.competence)
            .fetch_all(pool),
        sqlx::query_as::<_, MonthRevenue>(&months_sql)
            .bind(f.from)
            .bind(f.to)
            .bind(&f.competence)
            .fetch_all(pool),
        sqlx::query_scalar::<_, String>(&total_sql)
            .bind(f.from)
            .bind(f.to)
            .bind(&f.competence)
            .fetch_one(pool),
        sqlx::query_scalar::<_, Option<String>>(&tjm_sql)
            .bind(&f.competence)
            .fetch_one(pool),
    )?;
    Ok(Financier {
        filters: f.clone(),
        as_of,
        ca_total,
        tjm_moyen,
        top10,
        revenus_mensuels,
    })
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SkillCount {
    pub competence: String,
    pub libelle: String,
    pub nb_freelances: i64,
    pub nb_disponibles: i64,
    pub nb_en_mission: i64,
    pub tjm_moyen: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Freelance {
    pub id: i64,
    pub nom: String,
    pub prenom: Option<String>,
    pub competences: Vec<String>,
    pub tarif_jour: Option<String>,
    pub ville: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Ressources {
    pub competence: Option<String>,
    pub as_of: NaiveDate,
    pub nb_freelances: i64,
    pub en_mission: i64,
    pub disponibles: i64,
    /// freelancers on a mission / all, in percent with 2 decimals; null when there are none
    pub taux_occupation: Option<String>,
    /// `bas` below 60%, `haut` above 90%, else `normal`
    pub alerte_occupation: String,
    /// every skill with its available freelancers (the pie chart), most available first
    pub competences: Vec<SkillCount>,
    /// available freelancers (having the skill), cheapest first
    pub disponibles_liste: Vec<Freelance>,
}

/// Every skill (or the one given) with its freelancers, most available first: the Ressources pie and
/// the skill filters' choices.
pub async fn skills(
    pool: &PgPool,
    competence: Option<&str>,
) -> Result<Vec<SkillCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT competence, libelle, nb_freelances, nb_disponibles, nb_en_mission, tjm_moyen::text AS tjm_moyen
         FROM v_competences
         WHERE $1::text IS NULL OR competence = lower(btrim($1::text))
         ORDER BY nb_disponibles DESC, competence",
    )
    .bind(competence)
    .fetch_all(pool)
    .await
}

pub async fn ressources(
    pool: &PgPool,
    competence: Option<&str>,
) -> Result<Ressources, sqlx::Error> {
    let (nb, en_mission, taux): (i64, i64, Option<String>) = sqlx::query_as(&format!(
        "SELECT count(*), count(*) FILTER (WHERE en_mission),
                CASE WHEN count(*) = 0 THEN NULL
                     ELSE round(100.0 * count(*) FILTER (WHERE en_mission) / count(*), 2)::text END
         FROM v_freelances_mission WHERE {}",
        has_skill("$1")
    ))
    .bind(competence)
    .fetch_one(pool)
    .await?;
    let competences = skills(pool, competence).await?;
    let disponibles_liste: Vec<Freelance> = sqlx::query_as(&format!(
        "SELECT d.id, d.nom, d.prenom, d.competences, d.tarif_jour::text AS tarif_jour, d.ville
         FROM v_freelances_disponibles d
         WHERE {}
         ORDER BY d.tarif_jour NULLS LAST, d.id",
        has_skill("$1")
    ))
    .bind(competence)
    .fetch_all(pool)
    .await?;
    let alerte = match taux.as_deref().and_then(|t| t.parse::<f64>().ok()) {
        Some(t) if t < 60.0 => "bas",
        Some(t) if t > 90.0 => "haut",
        _ => "normal",
    };
    Ok(Ressources {
        competence: competence.map(str::to_string),
        as_of: as_of(pool).await?,
        nb_freelances: nb,
        en_mission,
        disponibles: nb - en_mission,
        taux_occupation: taux,
        alerte_occupation: alerte.to_string(),
        competences,
        disponibles_liste,
    })
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Mission {
    pub id: i64,
    pub nom: String,
    pub prenom: Option<String>,
    pub competences: Vec<String>,
    pub ville: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RecentInvoice {
    pub facture_id: String,
    pub freelance_id: i64,
    pub nom: String,
    pub montant: String,
    pub date: NaiveDate,
    pub statut: String,
    pub client: Option<String>,
    pub ingested_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LateInvoice {
    pub facture_id: String,
    pub freelance_id: i64,
    pub nom: String,
    pub montant: String,
    pub echeance: NaiveDate,
    pub jours_de_retard: i32,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TempsReel {
    pub as_of: NaiveDate,
    pub missions_en_cours: i64,
    /// the first 50, by name
    pub missions: Vec<Mission>,
    pub nouvelles_factures_du_jour: i64,
    pub dernieres_factures: Vec<RecentInvoice>,
    pub factures_en_retard: i64,
    /// the 10 most overdue (earliest due date first)
    pub retards: Vec<LateInvoice>,
    pub statut: SystemStatus,
}

/// The status light: `vert`, `orange` or `rouge`, with the reasons.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SystemStatus {
    pub couleur: String,
    pub raisons: Vec<String>,
    pub workers_vivants: i64,
    pub workers_total: i64,
    /// records published but not yet committed, all partitions; null when the master cannot tell
    pub lag: Option<i64>,
    pub master_joignable: bool,
}

pub async fn temps_reel(pool: &PgPool, status: SystemStatus) -> Result<TempsReel, sqlx::Error> {
    // independent reads: run side by side on the pool, the panel waits for the slowest only
    let (missions_en_cours, missions, nouvelles, dernieres, en_retard, retards, as_of) = futures::try_join!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM v_freelances_mission WHERE en_mission")
            .fetch_one(pool),
        sqlx::query_as::<_, Mission>(
            "SELECT id, nom, prenom, competences, ville FROM v_freelances_mission
             WHERE en_mission ORDER BY nom, id LIMIT 50",
        )
        .fetch_all(pool),
        sqlx::query_scalar::<_, i64>("SELECT nb_factures FROM v_factures_du_jour").fetch_one(pool),
        sqlx::query_as::<_, RecentInvoice>(
            "SELECT facture_id, freelance_id, nom, montant::text AS montant, date, statut, client, ingested_at
             FROM v_factures_recentes LIMIT 10",
        )
        .fetch_all(pool),
        // T3's indicator for the current as-of date (kept fresh by the master after commits); counting
        // the view again costs ~90 ms at 1M invoices. The view itself when T3 has not run yet.
        sqlx::query_scalar::<_, i64>(
            "SELECT coalesce(
                 (SELECT value::bigint FROM v_kpis WHERE kpi = 'factures_en_retard' AND period = ff_as_of()::text),
                 (SELECT count(*) FROM v_factures_en_retard))"
        )
        .fetch_one(pool),
        sqlx::query_as::<_, LateInvoice>(
            "SELECT facture_id, freelance_id, nom, montant::text AS montant, echeance, jours_de_retard
             FROM v_factures_en_retard ORDER BY echeance, facture_id LIMIT 10",
        )
        .fetch_all(pool),
        as_of(pool),
    )?;
    Ok(TempsReel {
        as_of,
        missions_en_cours,
        missions,
        nouvelles_factures_du_jour: nouvelles,
        dernieres_factures: dernieres,
        factures_en_retard: en_retard,
        retards,
        statut: status,
    })
}

/// Workers alive (heartbeat within `timeout_s`) and known.
pub async fn workers_alive(pool: &PgPool, timeout_s: f64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT count(*) FILTER (WHERE secondes_depuis < $1), count(*) FROM v_workers")
        .bind(timeout_s)
        .fetch_one(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn params(from: Option<&str>, to: Option<&str>, c: Option<&str>) -> FilterParams {
        FilterParams {
            from: from.map(Into::into),
            to: to.map(Into::into),
            competence: c.map(Into::into),
        }
    }

    #[test]
    fn default_period_is_the_12_months_ending_with_as_of() {
        let f = params(None, None, Some("  "))
            .validate(d("2025-10-17"))
            .unwrap();
        assert_eq!(
            (f.from, f.to, f.competence),
            (d("2024-11-01"), d("2025-10-01"), None)
        );
        let f = params(Some("2025-01"), Some("2025-03"), Some("Rust"))
            .validate(d("2025-10-17"))
            .unwrap();
        assert_eq!((f.from, f.to), (d("2025-01-01"), d("2025-03-01")));
        assert_eq!(f.competence.as_deref(), Some("Rust"));
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let last = d("2025-10-01");
        for bad in [
            "2025-13",
            "2025-1",
            "25-01",
            "2025/01",
            "abc",
            "2025-01'; DROP TABLE x",
        ] {
            let e = params(Some(bad), None, None).validate(last).unwrap_err();
            assert!(e.to_string().contains("YYYY-MM"), "{bad}: {e}");
        }
        let e = params(Some("2025-05"), Some("2025-04"), None)
            .validate(last)
            .unwrap_err();
        assert!(matches!(e, FilterError::Order { .. }), "{e}");
        assert!(params(Some("2000-01"), Some("2025-01"), None)
            .validate(last)
            .is_err());
        assert!(params(None, None, Some(&"x".repeat(101)))
            .validate(last)
            .is_err());
    }

    #[test]
    fn months_arithmetic() {
        assert_eq!(add_months(d("2025-01-01"), -1), d("2024-12-01"));
        assert_eq!(add_months(d("2025-12-01"), 1), d("2026-01-01"));
        assert_eq!(add_months(d("2025-03-01"), -27), d("2022-12-01"));
    }
}
