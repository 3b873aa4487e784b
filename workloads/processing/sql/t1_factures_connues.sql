-- T1 (DataFusion): the invoices of the batch, plus pending ones released by newly arrived profiles,
-- deduplicated on facture_id (the later offset wins), whose freelancer is known (`tarifs`).
-- Billed days default to montant / tarif_jour, rounded to the hundredth.
WITH candidates AS (
    SELECT * FROM factures_valides
    UNION ALL
    SELECT * FROM factures_liberees
), latest AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY facture_id ORDER BY kafka_offset DESC) AS version_rank
        FROM candidates
    ) AS versions
    WHERE version_rank = 1
)
SELECT l.topic, l.partition, l.kafka_offset, l.source_file, l.source_line,
       l.facture_id, l.freelance_id, l.montant, l.date, l.echeance, l.statut,
       coalesce(l.jours, ff_jours_derives(l.montant, t.tarif_jour)) AS jours,
       l.jours IS NULL AS jours_derives,
       l.client
FROM latest AS l
JOIN tarifs AS t ON t.id = l.freelance_id
