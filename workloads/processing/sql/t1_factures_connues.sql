-- T1 (DataFusion): the invoices of the batch, plus pending ones released by newly arrived profiles,
-- deduplicated on facture_id (the later Kafka offset wins, then the higher partition), whose
-- freelancer is known (`tarifs`). Billed days default to montant / tarif_jour, rounded to the hundredth.
-- (Deduplicated with an anti-join, not row_number(): DataFusion's window operator walks one
-- partition per key, which made it the costliest step of a batch.)
WITH candidates AS (
    SELECT * FROM factures_valides
    UNION ALL
    SELECT * FROM factures_liberees
)
SELECT l.topic, l.partition, l.kafka_offset, l.source_file, l.source_line,
       l.facture_id, l.freelance_id, l.montant, l.date, l.echeance, l.statut,
       coalesce(l.jours, ff_jours_derives(l.montant, t.tarif_jour)) AS jours,
       l.jours IS NULL AS jours_derives,
       l.client
FROM candidates AS l
JOIN tarifs AS t ON t.id = l.freelance_id
WHERE NOT EXISTS (
    SELECT 1 FROM candidates AS later
    WHERE later.facture_id = l.facture_id
      AND (later.kafka_offset > l.kafka_offset
           OR (later.kafka_offset = l.kafka_offset AND later.partition > l.partition))
)
