//! `Warehouse`: managed PostgreSQL (credentials, Service, StatefulSet, backups) or external; then the
//! migrations and the read-only login for Grafana; the schema version in status.

use std::{collections::BTreeMap, sync::Arc};

use ff_crds::{SecretKeyRef, Warehouse, WarehouseStatus};
use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::Secret};
use kube::{api::Api, runtime::controller::Action};

use super::{owner, write_status, RESYNC, WAIT};
use crate::{
    apply::{apply, apply_all, delete_if_exists, event, is_paused},
    builders::{warehouse as build, Owner},
    conditions::Outcome,
    context::{generate_password, Context},
    error::{KubeContext, Result},
};

pub const CONTROLLER: &str = "warehouse";
/// The LOGIN role Grafana reads the warehouse with (a member of `freelanceflow_reader`).
pub const GRAFANA_ROLE: &str = "freelanceflow_grafana";

pub fn reader_secret_name(owner: &str) -> String {
    format!("{owner}-reader")
}

async fn secret(ctx: &Context, ns: &str, name: &str) -> Result<Option<Secret>> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    api.get_opt(name)
        .await
        .context(|| format!("read Secret {name}"))
}

fn key(secret: &Secret, key: &str) -> Option<String> {
    secret
        .data
        .as_ref()?
        .get(key)
        .and_then(|v| String::from_utf8(v.0.clone()).ok())
}

/// The StatefulSet is ready when its single pod runs the current template.
pub fn statefulset_ready(sts: &StatefulSet) -> bool {
    let want = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(s) = &sts.status else { return false };
    s.observed_generation >= sts.metadata.generation
        && s.ready_replicas.unwrap_or(0) >= want
        && s.updated_replicas.unwrap_or(0) >= want
        && s.current_revision == s.update_revision
}

pub async fn reconcile(wh: Arc<Warehouse>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, wh, ctx, reconcile_inner).await
}

async fn reconcile_inner(wh: Arc<Warehouse>, ctx: Arc<Context>) -> Result<Action> {
    let o = owner(wh.as_ref());
    let previous = wh.status.clone();
    let paused = is_paused(wh.as_ref());
    let mut status = WarehouseStatus {
        schema_version: previous.as_ref().and_then(|p| p.schema_version),
        ..Default::default()
    };

    // dereference: the URL of the database
    let url = if let Some(managed) = &wh.spec.managed {
        status.mode = Some("Managed".into());
        let creds = build::credentials_name(&o.name);
        status.url_secret = Some(SecretKeyRef {
            name: creds.clone(),
            key: "url".into(),
        });
        let existing = secret(&ctx, &o.namespace, &creds).await?;
        // the password is generated once; applying the Secret again keeps it
        let password = existing
            .as_ref()
            .and_then(|s| key(s, "password"))
            .unwrap_or_else(generate_password);
        let children = build::build(&o, managed, &wh.spec.database);
        if !paused {
            apply(
                &ctx.client,
                &serde_json::to_value(build::credentials(&o, &wh.spec.database, &password))
                    .unwrap(),
            )
            .await?;
            apply_all(&ctx.client, &children.manifests()).await?;
            if children.backup.is_none() {
                delete_if_exists(
                    &ctx.client,
                    "batch/v1",
                    "CronJob",
                    &o.namespace,
                    &format!("{}-backup", o.name),
                )
                .await?;
            }
        }
        let sts_api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &o.namespace);
        let sts = sts_api
            .get_opt(&build::service_name(&o.name))
            .await
            .context(|| "read the PostgreSQL StatefulSet".into())?;
        if !sts.as_ref().is_some_and(statefulset_ready) {
            let outcome = Outcome::progressing("Starting", "waiting for PostgreSQL to be ready");
            write_status(&ctx, wh.as_ref(), previous.as_ref(), status, &outcome).await?;
            return Ok(Action::requeue(WAIT));
        }
        format!(
            "postgres://{}:{password}@{}:{}/{}",
            build::USER,
            build::host(&o),
            build::POSTGRES_PORT,
            wh.spec.database
        )
    } else {
        status.mode = Some("External".into());
        let ext = wh.spec.external.as_ref().expect("CEL: managed or external");
        status.url_secret = Some(ext.url_secret.clone());
        match secret(&ctx, &o.namespace, &ext.url_secret.name)
            .await?
            .and_then(|s| key(&s, &ext.url_secret.key))
        {
            Some(url) => url.trim().to_string(),
            None => {
                let why = format!(
                    "Secret {} has no key {}",
                    ext.url_secret.name, ext.url_secret.key
                );
                write_status(
                    &ctx,
                    wh.as_ref(),
                    previous.as_ref(),
                    status,
                    &Outcome::failed("DependencyMissing", why),
                )
                .await?;
                return Ok(Action::requeue(WAIT));
            }
        }
    };

    if paused {
        let outcome = Outcome::ready(format!(
            "schema version {}",
            status.schema_version.unwrap_or_default()
        ));
        write_status(&ctx, wh.as_ref(), previous.as_ref(), status, &outcome).await?;
        return Ok(Action::requeue(RESYNC));
    }
    let before = status.schema_version;
    let version = match ctx.warehouse.migrate(&url).await {
        Ok(v) => v,
        Err(e) => {
            write_status(
                &ctx,
                wh.as_ref(),
                previous.as_ref(),
                status,
                &Outcome::failed("MigrationFailed", e.to_string()),
            )
            .await?;
            return Ok(Action::requeue(WAIT));
        }
    };
    status.schema_version = Some(version);
    if before != Some(version) {
        event(
            &ctx,
            wh.as_ref(),
            false,
            "Migrated",
            format!("schema version {version}"),
        )
        .await;
    }
    ensure_reader(&ctx, &o, &url).await?;
    status.reader_secret = Some(reader_secret_name(&o.name));
    write_status(
        &ctx,
        wh.as_ref(),
        previous.as_ref(),
        status,
        &Outcome::ready(format!("schema version {version}")),
    )
    .await?;
    Ok(Action::requeue(RESYNC))
}

/// The read-only login of Grafana and its Secret (password generated once).
async fn ensure_reader(ctx: &Context, o: &Owner, url: &str) -> Result<()> {
    let name = reader_secret_name(&o.name);
    let existing = secret(ctx, &o.namespace, &name).await?;
    let password = existing
        .as_ref()
        .and_then(|s| key(s, "password"))
        .unwrap_or_else(generate_password);
    ctx.warehouse
        .ensure_reader_login(url, GRAFANA_ROLE, &password)
        .await?;
    // host:port of the URL the operator itself connects with
    let options: sqlx::postgres::PgConnectOptions = url.parse().map_err(|e| {
        crate::error::Error::Warehouse(format!("the warehouse URL does not parse: {e}"))
    })?;
    let address = format!("{}:{}", options.get_host(), options.get_port());
    // without a database in the URL, PostgreSQL uses the user's name
    let database = options
        .get_database()
        .unwrap_or(options.get_username())
        .to_string();
    let data = BTreeMap::from([
        ("username".to_string(), GRAFANA_ROLE.to_string()),
        ("password".to_string(), password),
        ("address".to_string(), address),
        ("database".to_string(), database),
    ]);
    let secret = crate::builders::opaque_secret(o, name, "warehouse", data);
    apply(&ctx.client, &serde_json::to_value(secret).unwrap()).await?;
    Ok(())
}
