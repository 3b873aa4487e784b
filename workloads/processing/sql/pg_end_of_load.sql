-- The end-of-load marker of $1 has been seen on both topics for invoice partition $2 of topic $3, at
-- offset $4: invoices received before it and still waiting for their freelancer are rejected as
-- unknown_freelance.
WITH expired AS (
    DELETE FROM factures_en_attente
    WHERE source_topic = $3 AND source_partition = $2 AND source_offset < $4
    RETURNING *
)
INSERT INTO rejets (fingerprint, entity, rule, message, source_file, source_line, topic, partition, kafka_offset,
                    load_id, raw)
SELECT encode(sha256(convert_to('facture|' || coalesce(source_file, '') || '|' || coalesce(source_line, -1)
                                || '|' || raw, 'UTF8')), 'hex'),
       'facture', 'unknown_freelance',
       'freelance_id ' || freelance_id || ' has no valid profile at the end of load ' || $1,
       source_file, source_line, source_topic, source_partition, source_offset, $1, raw
FROM expired
ON CONFLICT (fingerprint) DO NOTHING
