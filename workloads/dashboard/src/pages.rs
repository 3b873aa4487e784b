//! Server-rendered pages: login, Financier, Ressources, Temps réel. Filters are plain GET forms; Temps
//! réel refreshes itself from the API when the server pushes a commit event.

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::fmt::Write;

use crate::api::{self, ApiError, SkillParam};
use crate::data::{self, FilterParams};
use crate::svg::{self, esc};
use crate::{session_token, AppState, SESSION_COOKIE};

pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f9;color:#1d2733}
header{background:#1d2733;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header a.on{color:#fff;font-weight:600}
header form{margin-left:auto}main{padding:16px 20px;display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px #0002}
h2{font-size:15px;margin:0 0 8px}.kpi{font-size:28px;font-weight:600}.chart{width:100%;height:auto}
.lbl{font-size:11px;fill:#445}.val{font-size:11px;fill:#223}.big{font-size:26px;font-weight:600}.axis{stroke:#99a}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #e3e7ee;padding:3px 6px;text-align:left}
.filters{grid-column:1/-1}.filters form{display:flex;gap:10px;flex-wrap:wrap;align-items:end}
.alert{color:#b02a2a;font-weight:600}.ok{color:#2d7a4d}.light{display:inline-block;width:18px;height:18px;border-radius:50%;vertical-align:middle}
.vert{background:#3aa76d}.orange{background:#e8a33a}.rouge{background:#c94c4c}.error{color:#b02a2a}
"#;

fn page(title: &str, active: &str, body: &str) -> Html<String> {
    let nav = [
        ("/financier", "Financier"),
        ("/ressources", "Ressources"),
        ("/temps-reel", "Temps réel"),
    ]
    .iter()
    .map(|(href, name)| {
        let on = if *href == active { " class=\"on\"" } else { "" };
        format!("<a href=\"{href}\"{on}>{name}</a>")
    })
    .collect::<String>();
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{} · FreelanceFlow</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\
         <header><strong>FreelanceFlow</strong>{nav}<form method=\"post\" action=\"/logout\"><button>Se déconnecter</button></form></header>\
         <main>{body}</main></body></html>",
        esc(title)
    ))
}

/// The page with what went wrong, e.g. which filter is invalid and why.
fn error_page(title: &str, active: &str, e: ApiError) -> Response {
    let ApiError(status, message) = e;
    let body = format!(
        "<section class=\"filters\"><h2>Erreur ({status})</h2><p class=\"error\" id=\"error\">{}</p></section>",
        esc(&message)
    );
    (status, page(title, active, &body)).into_response()
}

fn skill_options(skills: &[data::SkillCount], selected: Option<&str>) -> String {
    let mut s = String::from("<option value=\"\">toutes</option>");
    for k in skills {
        let sel = if selected.is_some_and(|c| c.trim().eq_ignore_ascii_case(&k.competence)) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(&k.libelle),
            esc(&k.libelle)
        );
    }
    s
}

pub async fn financier(State(s): State<AppState>, Query(p): Query<FilterParams>) -> Response {
    match financier_body(&s, &p).await {
        Ok(body) => page("Financier", "/financier", &body).into_response(),
        Err(e) => error_page("Financier", "/financier", e),
    }
}

async fn financier_body(s: &AppState, p: &FilterParams) -> Result<String, ApiError> {
    let d = api::financier_data(s, p).await?;
    let f = &d.filters;
    let skills = data::skills(&s.pool, None).await?;
    let query = format!(
        "from={}&to={}&competence={}",
        f.from.format("%Y-%m"),
        f.to.format("%Y-%m"),
        url_encode(f.competence.as_deref().unwrap_or(""))
    );
    let top: Vec<(String, f64)> = d
        .top10
        .iter()
        .map(|t| {
            (
                format!("{} {}", t.nom, t.prenom.as_deref().unwrap_or(""))
                    .trim()
                    .to_string(),
                t.ca.parse().unwrap_or(0.0),
            )
        })
        .collect();
    let months: Vec<(String, f64)> = d
        .revenus_mensuels
        .iter()
        .map(|m| (m.periode.clone(), m.ca.parse().unwrap_or(0.0)))
        .collect();
    let mut rows = String::new();
    for m in &d.revenus_mensuels {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.periode),
            esc(&m.ca),
            esc(&m.jours),
            m.nb_factures
        );
    }
    Ok(format!(
        r#"<section class="filters"><form method="get" action="/financier" id="filters">
<label>De <input type="month" name="from" value="{from}"></label>
<label>À <input type="month" name="to" value="{to}"></label>
<label>Compétence <select name="competence">{opts}</select></label>
<button type="submit">Filtrer</button>
<a id="export-xlsx" href="/api/export/financier.xlsx?{query}">Excel (.xlsx)</a>
<a id="export-csv" href="/api/export/financier.csv?table=mensuel&amp;{query}">CSV</a>
</form></section>
<section><h2>CA total</h2><div class="kpi" id="ca-total" data-value="{ca}">{ca_fmt} €</div><small>du {from} au {to}</small></section>
<section><h2>TJM moyen</h2><div class="kpi" id="tjm-moyen" data-value="{tjm}">{tjm_fmt} €</div></section>
<section><h2>Top 10 freelances par CA</h2>{bars}</section>
<section><h2>Revenus mensuels</h2>{line}<table id="revenus"><tr><th>mois</th><th>CA</th><th>jours</th><th>factures</th></tr>{rows}</table></section>"#,
        from = f.from.format("%Y-%m"),
        to = f.to.format("%Y-%m"),
        opts = skill_options(&skills, f.competence.as_deref()),
        query = esc(&query),
        ca = esc(&d.ca_total),
        ca_fmt = svg::grouped(d.ca_total.parse().unwrap_or(0.0)),
        tjm = esc(d.tjm_moyen.as_deref().unwrap_or("")),
        tjm_fmt = esc(d.tjm_moyen.as_deref().unwrap_or("–")),
        bars = svg::bars("top10", &top),
        line = svg::line("revenus-mensuels", &months),
    ))
}

pub async fn ressources(State(s): State<AppState>, Query(p): Query<SkillParam>) -> Response {
    let body = async {
        let skill = p.skill()?;
        let d = data::ressources(&s.pool, skill).await?;
        let all = if skill.is_some() {
            data::skills(&s.pool, None).await?
        } else {
            d.competences.clone()
        };
        let pie: Vec<(String, f64)> = d
            .competences
            .iter()
            .map(|k| (k.libelle.clone(), k.nb_disponibles as f64))
            .collect();
        let taux: f64 = d.taux_occupation.as_deref().and_then(|t| t.parse().ok()).unwrap_or(0.0);
        let mut rows = String::new();
        for f in &d.disponibles_liste {
            let _ = write!(
                rows,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.id,
                esc(&f.nom),
                esc(f.prenom.as_deref().unwrap_or("")),
                esc(&f.competences.join(", ")),
                esc(f.tarif_jour.as_deref().unwrap_or("")),
                esc(f.ville.as_deref().unwrap_or(""))
            );
        }
        let alert = match d.alerte_occupation.as_str() {
            "bas" => "<p class=\"alert\" id=\"occupation-alerte\">Taux d'occupation sous 60 %</p>",
            "haut" => "<p class=\"alert\" id=\"occupation-alerte\">Taux d'occupation au-dessus de 90 %</p>",
            _ => "<p class=\"ok\">Taux d'occupation entre 60 et 90 %</p>",
        };
        Ok::<_, ApiError>(format!(
            r#"<section class="filters"><form method="get" action="/ressources" id="filters">
<label>Compétence <select name="competence">{opts}</select></label><button type="submit">Filtrer</button></form></section>
<section><h2>Taux d'occupation</h2>{gauge}{alert}</section>
<section><h2>Disponibles / en mission</h2><div class="kpi"><span id="disponibles">{dispo}</span> disponibles · <span id="en-mission">{mission}</span> en mission</div>{split}</section>
<section><h2>Compétences disponibles</h2>{pie}</section>
<section><h2>Freelances disponibles ({n})</h2><table id="disponibles-liste"><tr><th>id</th><th>nom</th><th>compétences</th><th>TJM</th><th>ville</th></tr>{rows}</table></section>"#,
            opts = skill_options(&all, skill),
            gauge = svg::gauge("occupation", taux, 60.0, 90.0),
            dispo = d.disponibles,
            mission = d.en_mission,
            split = svg::bars(
                "disponibles-vs-mission",
                &[("disponibles".into(), d.disponibles as f64), ("en mission".into(), d.en_mission as f64)]
            ),
            pie = svg::pie("competences", &pie),
            n = d.disponibles_liste.len(),
        ))
    }
    .await;
    match body {
        Ok(b) => page("Ressources", "/ressources", &b).into_response(),
        Err(e) => error_page("Ressources", "/ressources", e),
    }
}

const LIVE_JS: &str = r#"
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const rows = (items, cols) => items.map(r => '<tr>' + cols.map(c => '<td>' + esc(typeof c === 'function' ? c(r) : r[c]) + '</td>').join('') + '</tr>').join('');
async function refresh() {
  const r = await fetch('/api/temps-reel', {credentials: 'same-origin'});
  if (!r.ok) { $('maj').textContent = 'erreur ' + r.status; return; }
  const d = await r.json();
  $('missions-en-cours').textContent = d.missions_en_cours;
  $('missions').innerHTML = rows(d.missions, ['id', r => r.nom + ' ' + (r.prenom ?? ''), r => r.competences.join(', ')]);
  $('nouvelles-factures').textContent = d.nouvelles_factures_du_jour;
  $('dernieres-factures').innerHTML = rows(d.dernieres_factures, ['facture_id', 'nom', 'montant', 'date', 'statut']);
  $('factures-en-retard').textContent = d.factures_en_retard;
  $('retards').innerHTML = rows(d.retards, ['facture_id', 'nom', 'montant', 'echeance', 'jours_de_retard']);
  $('statut').className = 'light ' + d.statut.couleur;
  $('statut').dataset.couleur = d.statut.couleur;
  $('statut-raisons').textContent = d.statut.raisons.join(' · ') || 'tout va bien';
  $('maj').textContent = new Date().toLocaleTimeString();
}
new EventSource('/api/events').addEventListener('commit', refresh);
setInterval(refresh, 15000);
refresh();
"#;

pub async fn temps_reel() -> Html<String> {
    let body = format!(
        r#"<section><h2>État du système <span id="statut" class="light"></span></h2><p id="statut-raisons">…</p><small>mis à jour <span id="maj">…</span></small></section>
<section><h2>Missions en cours</h2><div class="kpi" id="missions-en-cours">…</div><table><tbody id="missions"></tbody></table></section>
<section><h2>Nouvelles factures du jour</h2><div class="kpi" id="nouvelles-factures">…</div></section>
<section><h2>10 dernières factures</h2><table><thead><tr><th>facture</th><th>freelance</th><th>montant</th><th>date</th><th>statut</th></tr></thead><tbody id="dernieres-factures"></tbody></table></section>
<section><h2 class="alert">Factures en retard : <span id="factures-en-retard">…</span></h2><table><tbody id="retards"></tbody></table></section>
<script>{LIVE_JS}</script>"#
    );
    page("Temps réel", "/temps-reel", &body)
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only local paths: `/x`, not `//host` or `https://...` (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/financier".to_string(),
    }
}

pub async fn login_form(Query(q): Query<NextParam>) -> Html<String> {
    login_page(&safe_next(q.next.as_deref()), None)
}

fn login_page(next: &str, error: Option<&str>) -> Html<String> {
    let err = error
        .map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(e)))
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Connexion · FreelanceFlow</title><style>{STYLE}</style></head>\
         <body><main><section><h2>FreelanceFlow : connexion</h2>{err}<form method=\"post\" action=\"/login\" id=\"login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\"><p><label>Utilisateur <input name=\"user\" autocomplete=\"username\" required></label></p>\
         <p><label>Mot de passe <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>\
         <button type=\"submit\">Se connecter</button></form></section></main></body></html>",
        esc(next)
    ))
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(s): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    let (users, user, password) = (s.users.clone(), f.user.clone(), f.password.clone());
    // argon2 is deliberately slow: keep it off the async workers
    let ok = tokio::task::spawn_blocking(move || users.verify(user.trim(), &password))
        .await
        .unwrap_or(false);
    if !ok {
        tracing::warn!(user = %f.user, "failed login");
        return (
            StatusCode::UNAUTHORIZED,
            login_page(&next, Some("Utilisateur ou mot de passe incorrect")),
        )
            .into_response();
    }
    let token = s.sessions.open(f.user.trim());
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"),
        )],
        Redirect::to(&next),
    )
        .into_response()
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        s.sessions.close(token);
    }
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_redirects() {
        assert_eq!(
            safe_next(Some("/ressources?competence=Rust")),
            "/ressources?competence=Rust"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "\\\\evil",
            "/\\evil",
            "evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/financier", "{bad}");
        }
        assert_eq!(safe_next(None), "/financier");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("/a b?c=é&d"), "/a%20b%3Fc%3D%C3%A9%26d");
    }
}
