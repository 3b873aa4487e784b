-- T1 (DataFusion): the batch's invoices whose freelancer is not known yet; they wait in
-- `factures_en_attente` until the profile arrives or the load ends.
SELECT facture_id, freelance_id, montant, date, echeance, statut, jours, client,
       topic, partition, kafka_offset, source_file, source_line, raw
FROM (
    SELECT *, row_number() OVER (PARTITION BY facture_id ORDER BY kafka_offset DESC) AS version_rank
    FROM factures_valides
) AS versions
WHERE version_rank = 1
  AND freelance_id NOT IN (SELECT id FROM tarifs)
