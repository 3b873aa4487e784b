//! Live updates: the workers `NOTIFY freelanceflow_commit` in each batch transaction; the dashboard
//! listens and pushes an event to every open Temps réel page (Server-Sent Events).

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use ff_warehouse::COMMIT_CHANNEL;

/// Forwards commit notifications to `tx` until the process stops; reconnects after errors. Bursts are
/// coalesced: at most one event per `min_gap`, so a bulk load does not flood the browsers.
pub async fn forward_commits(database_url: String, tx: broadcast::Sender<()>, min_gap: Duration) {
    loop {
        match listen(&database_url, &tx, min_gap).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "commit notifications lost; listening again in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn listen(
    url: &str,
    tx: &broadcast::Sender<()>,
    min_gap: Duration,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(COMMIT_CHANNEL).await?;
    // something may have been committed while we were not listening
    let _ = tx.send(());
    loop {
        listener.recv().await?;
        // drain what piled up within the gap, then send one event
        let deadline = tokio::time::Instant::now() + min_gap;
        while let Ok(r) = tokio::time::timeout_at(deadline, listener.recv()).await {
            r?;
        }
        let _ = tx.send(());
    }
}
