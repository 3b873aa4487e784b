//! A warehouse that outlived its broker: offsets stored in `consumer_offsets` point beyond the log of
//! topics that were recreated empty. The workers must read the new topics from their start, not wait
//! for offsets that will never come back.

use std::time::{Duration, Instant};

use ff_e2e::Pipeline;

#[tokio::test(flavor = "multi_thread")]
async fn stored_offsets_beyond_the_log_end_are_read_from_the_start() {
    let p = Pipeline::new("recreated").await;
    let empty = tempfile::tempdir().unwrap();
    p.load(empty.path(), &[]); // creates the topics
    let env = p.env();
    let get = |k: &str| env.iter().find(|(key, _)| *key == k).unwrap().1.to_string();
    for topic in [get("FF_TOPIC_PROFILS"), get("FF_TOPIC_FACTURES")] {
        for partition in 0..2 {
            sqlx::query(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, epoch)
                 VALUES ($1, $2, $3, 1000, 7)",
            )
            .bind(get("FF_GROUP"))
            .bind(&topic)
            .bind(partition)
            .execute(&p.pool)
            .await
            .unwrap();
        }
    }
    let _master = p.master();
    let _w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    let dir = tempfile::tempdir().unwrap();
    ff_datagen::write_sample(dir.path()).unwrap();
    p.load(dir.path(), &[]);

    let deadline = Instant::now() + Duration::from_secs(90);
    while p.scalar("SELECT count(*)::text FROM factures").await != "1" {
        assert!(
            Instant::now() < deadline,
            "the sample invoice never reached the warehouse"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        p.scalar("SELECT nom || ' ' || montant FROM factures JOIN freelances ON freelances.id = freelance_id").await,
        "Dupont 4500.00"
    );
    // the stored offsets follow the new log on every partition (partition 1 carries only the
    // end-of-load markers, committed when its worker gets to them)
    let follows =
        "SELECT (count(*) = 4 AND bool_and(next_offset < 1000))::text FROM consumer_offsets
                   WHERE consumer_group LIKE '%workers'";
    while p.scalar(follows).await != "true" {
        assert!(
            Instant::now() < deadline,
            "stored offsets still beyond the new log: {}",
            p.scalar("SELECT string_agg(topic || '[' || partition || ']=' || next_offset, ', ') FROM consumer_offsets").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
