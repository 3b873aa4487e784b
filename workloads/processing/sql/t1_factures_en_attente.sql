-- T1 (DataFusion): the batch's invoices whose freelancer is not known yet; they wait in
-- `factures_en_attente` until the profile arrives or the load ends. One version per facture_id, as in
-- t1_factures_connues.sql.
SELECT v.facture_id, v.freelance_id, v.montant, v.date, v.echeance, v.statut, v.jours, v.client,
       v.topic, v.partition, v.kafka_offset, v.source_file, v.source_line, v.raw
FROM factures_valides AS v
WHERE v.freelance_id NOT IN (SELECT id FROM tarifs)
  AND NOT EXISTS (
    SELECT 1 FROM factures_valides AS later
    WHERE later.facture_id = v.facture_id
      AND (later.kafka_offset > v.kafka_offset
           OR (later.kafka_offset = v.kafka_offset AND later.partition > v.partition))
)
