//! The JSON API behind every panel, its OpenAPI document, the exports and the live event stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, OpenApi};

use crate::data::{self, FilterParams, Filters, SystemStatus};
use crate::AppState;

/// An API error: a JSON body `{"error": "..."}` with its status.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "warehouse query failed");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the warehouse did not answer: {e}"),
        )
    }
}

impl From<data::FilterError> for ApiError {
    fn from(e: data::FilterError) -> Self {
        ApiError(StatusCode::BAD_REQUEST, e.to_string())
    }
}

/// The Financier numbers for the parameters as received: the as-of date gives the default period.
pub async fn financier_data(
    state: &AppState,
    p: &FilterParams,
) -> Result<data::Financier, ApiError> {
    let as_of = data::as_of(&state.pool).await?;
    let f: Filters = p.validate(as_of)?;
    Ok(data::financier(&state.pool, &f, as_of).await?)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "FreelanceFlow dashboards API",
        description = "Every number of the Financier, Ressources and Temps réel dashboards, read from the warehouse views. Money and rates are exact decimal strings. Authentication: the `ff_session` cookie from `POST /login`, or the OIDC proxy's user header."
    ),
    paths(
        financier,
        ressources,
        temps_reel,
        export_xlsx,
        export_csv,
        events,
        healthz
    ),
    components(schemas(
        data::Financier,
        data::Ressources,
        data::TempsReel,
        data::Filters,
        data::TopFreelance,
        data::MonthRevenue,
        data::SkillCount,
        data::Freelance,
        data::Mission,
        data::RecentInvoice,
        data::LateInvoice,
        data::SystemStatus
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Financier: top 10 by revenue, monthly revenue, CA total and TJM moyen, for a period and a skill.
#[utoipa::path(get, path = "/api/financier", params(FilterParams),
    responses((status = 200, body = data::Financier), (status = 400, description = "invalid filter"), (status = 401)))]
pub async fn financier(
    State(s): State<AppState>,
    Query(p): Query<FilterParams>,
) -> Result<Json<data::Financier>, ApiError> {
    Ok(Json(financier_data(&s, &p).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SkillParam {
    /// A skill (case-insensitive); empty: all.
    pub competence: Option<String>,
}

impl SkillParam {
    pub fn skill(&self) -> Result<Option<&str>, ApiError> {
        Ok(data::skill(self.competence.as_deref())?)
    }
}

/// Ressources: skills of available freelancers, occupancy rate, available vs on mission, available list.
#[utoipa::path(get, path = "/api/ressources", params(SkillParam),
    responses((status = 200, body = data::Ressources), (status = 400), (status = 401)))]
pub async fn ressources(
    State(s): State<AppState>,
    Query(p): Query<SkillParam>,
) -> Result<Json<data::Ressources>, ApiError> {
    Ok(Json(data::ressources(&s.pool, p.skill()?).await?))
}

/// Temps réel: missions in progress, today's invoices, the last 10, late invoices, the status light.
#[utoipa::path(get, path = "/api/temps-reel",
    responses((status = 200, body = data::TempsReel), (status = 401)))]
pub async fn temps_reel(State(s): State<AppState>) -> Result<Json<data::TempsReel>, ApiError> {
    let status = status(&s).await?;
    Ok(Json(data::temps_reel(&s.pool, status).await?))
}

/// The status light from the master's health, the workers' heartbeats and the consumer lag.
pub async fn status(s: &AppState) -> Result<SystemStatus, ApiError> {
    let base = s.cfg.master_url.trim_end_matches('/');
    let healthz = async {
        match s.http.get(format!("{base}/healthz")).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    };
    let lag = async {
        match s.http.get(format!("{base}/lag")).send().await {
            Ok(r) if r.status().is_success() => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["total"].as_i64()),
            _ => None,
        }
    };
    // the warehouse and the master, asked side by side
    let (workers, master_ok, lag) = tokio::join!(
        data::workers_alive(&s.pool, s.cfg.worker_timeout.as_secs_f64()),
        healthz,
        lag
    );
    let (alive, total) = workers?;
    let mut rouge = Vec::new();
    let mut orange = Vec::new();
    if !master_ok {
        rouge.push("le master ne répond pas".to_string());
    }
    if alive == 0 {
        rouge.push("aucun worker vivant".to_string());
    } else if alive < total {
        orange.push(format!(
            "{} worker(s) sur {total} sans signe de vie",
            total - alive
        ));
    }
    match lag {
        Some(l) if l > s.cfg.lag_warning => {
            orange.push(format!("{l} enregistrements en attente de traitement"))
        }
        None if master_ok => orange.push("retard de consommation inconnu".to_string()),
        _ => {}
    }
    let couleur = if !rouge.is_empty() {
        "rouge"
    } else if !orange.is_empty() {
        "orange"
    } else {
        "vert"
    };
    rouge.extend(orange);
    Ok(SystemStatus {
        couleur: couleur.to_string(),
        raisons: rouge,
        workers_vivants: alive,
        workers_total: total,
        lag,
        master_joignable: master_ok,
    })
}

/// The Financier dashboard as an Excel workbook (sheets KPIs, Top 10, Revenus mensuels).
#[utoipa::path(get, path = "/api/export/financier.xlsx", params(FilterParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400), (status = 401)))]
pub async fn export_xlsx(
    State(s): State<AppState>,
    Query(p): Query<FilterParams>,
) -> Result<Response, ApiError> {
    let d = financier_data(&s, &p).await?;
    let bytes = xlsx(&d).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"financier.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

pub fn xlsx(d: &data::Financier) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("# ##0.00");
    let period = format!(
        "{} à {}",
        d.filters.from.format("%Y-%m"),
        d.filters.to.format("%Y-%m")
    );
    let ws = wb.add_worksheet().set_name("KPIs")?;
    ws.write_with_format(0, 0, "Indicateur", &bold)?;
    ws.write_with_format(0, 1, "Valeur", &bold)?;
    ws.write(1, 0, "Période")?;
    ws.write(1, 1, period.as_str())?;
    ws.write(2, 0, "Compétence")?;
    ws.write(2, 1, d.filters.competence.as_deref().unwrap_or("toutes"))?;
    ws.write(3, 0, "CA total")?;
    ws.write_with_format(3, 1, num(&d.ca_total), &money)?;
    ws.write(4, 0, "TJM moyen")?;
    if let Some(t) = &d.tjm_moyen {
        ws.write_with_format(4, 1, num(t), &money)?;
    }
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 22)?;
    let ws = wb.add_worksheet().set_name("Top 10")?;
    for (c, h) in ["freelance_id", "nom", "prenom", "ca", "jours"]
        .iter()
        .enumerate()
    {
        ws.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, t) in d.top10.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write(r, 0, t.freelance_id as f64)?;
        ws.write(r, 1, t.nom.as_str())?;
        ws.write(r, 2, t.prenom.as_deref().unwrap_or(""))?;
        ws.write_with_format(r, 3, num(&t.ca), &money)?;
        ws.write(r, 4, num(&t.jours))?;
    }
    let ws = wb.add_worksheet().set_name("Revenus mensuels")?;
    for (c, h) in ["periode", "ca", "jours", "nb_factures"].iter().enumerate() {
        ws.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, m) in d.revenus_mensuels.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write(r, 0, m.periode.as_str())?;
        ws.write_with_format(r, 1, num(&m.ca), &money)?;
        ws.write(r, 2, num(&m.jours))?;
        ws.write(r, 3, m.nb_factures as f64)?;
    }
    wb.save_to_buffer()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableParam {
    /// `mensuel` (default) or `top10`.
    pub table: Option<String>,
}

/// One table of the Financier dashboard as CSV (`table=mensuel` or `top10`), with the Financier filters.
#[utoipa::path(get, path = "/api/export/financier.csv", params(TableParam, FilterParams),
    responses((status = 200, content_type = "text/csv"), (status = 400), (status = 401)))]
pub async fn export_csv(
    State(s): State<AppState>,
    Query(t): Query<TableParam>,
    Query(p): Query<FilterParams>,
) -> Result<Response, ApiError> {
    let d = financier_data(&s, &p).await?;
    let table = t.table.as_deref().unwrap_or("mensuel");
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    match table {
        "mensuel" => {
            w.write_record(["periode", "ca", "jours", "nb_factures"])
                .map_err(io)?;
            for m in &d.revenus_mensuels {
                w.write_record([&m.periode, &m.ca, &m.jours, &m.nb_factures.to_string()])
                    .map_err(io)?;
            }
        }
        "top10" => {
            w.write_record(["freelance_id", "nom", "prenom", "ca", "jours"])
                .map_err(io)?;
            for t in &d.top10 {
                w.write_record([
                    &t.freelance_id.to_string(),
                    &t.nom,
                    t.prenom.as_deref().unwrap_or(""),
                    &t.ca,
                    &t.jours,
                ])
                .map_err(io)?;
            }
        }
        other => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("table must be `mensuel` or `top10`, got {other:?}"),
            ))
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"financier-{table}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Server-Sent Events: a `commit` event shortly after each batch the workers commit.
#[utoipa::path(get, path = "/api/events",
    responses((status = 200, content_type = "text/event-stream"), (status = 401)))]
pub async fn events(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.commits.subscribe();
    // a lagged receiver missed events but still owes the page one refresh
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(()) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                Some((Ok(Event::default().event("commit").data("{}")), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Prometheus metrics (no authentication, no business data): warehouse reachability and the number of
/// browsers following Temps réel live.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let up = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&s.pool)
        .await
        .is_ok();
    let text = format!(
        "# HELP freelanceflow_dashboard_warehouse_up 1 when the warehouse answers.\n\
         # TYPE freelanceflow_dashboard_warehouse_up gauge\n\
         freelanceflow_dashboard_warehouse_up {}\n\
         # HELP freelanceflow_dashboard_live_clients Browsers following Temps réel.\n\
         # TYPE freelanceflow_dashboard_live_clients gauge\n\
         freelanceflow_dashboard_live_clients {}\n",
        u8::from(up),
        s.commits.receiver_count()
    );
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Liveness of the dashboards and their warehouse connection (no authentication).
#[utoipa::path(get, path = "/healthz", responses((status = 200), (status = 503)))]
pub async fn healthz(State(s): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&s.pool)
        .await
    {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}
