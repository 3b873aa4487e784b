-- Upserts the batch's known invoices; an identical invoice loaded again changes nothing.
INSERT INTO factures AS x (facture_id, freelance_id, montant, date, echeance, statut, jours, jours_derives, client,
                           source_topic, source_partition, source_offset, source_file, source_line)
SELECT facture_id, freelance_id, montant, date, echeance, statut, jours, jours_derives, client,
       source_topic, source_partition, source_offset, source_file, source_line
FROM stg_factures
ON CONFLICT (facture_id) DO UPDATE SET
    freelance_id = EXCLUDED.freelance_id, montant = EXCLUDED.montant, date = EXCLUDED.date,
    echeance = EXCLUDED.echeance, statut = EXCLUDED.statut, jours = EXCLUDED.jours,
    jours_derives = EXCLUDED.jours_derives, client = EXCLUDED.client,
    source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition,
    source_offset = EXCLUDED.source_offset, source_file = EXCLUDED.source_file,
    source_line = EXCLUDED.source_line, updated_at = now()
WHERE (x.freelance_id, x.montant, x.date, x.echeance, x.statut, x.jours, x.client)
      IS DISTINCT FROM
      (EXCLUDED.freelance_id, EXCLUDED.montant, EXCLUDED.date, EXCLUDED.echeance, EXCLUDED.statut,
       EXCLUDED.jours, EXCLUDED.client)
