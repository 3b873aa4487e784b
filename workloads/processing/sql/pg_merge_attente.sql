-- Invoices waiting for their freelancer's profile (a later version replaces an earlier one).
INSERT INTO factures_en_attente AS a
SELECT * FROM stg_attente
ON CONFLICT (facture_id) DO UPDATE SET
    freelance_id = EXCLUDED.freelance_id, montant = EXCLUDED.montant, date = EXCLUDED.date,
    echeance = EXCLUDED.echeance, statut = EXCLUDED.statut, jours = EXCLUDED.jours, client = EXCLUDED.client,
    source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition,
    source_offset = EXCLUDED.source_offset, source_file = EXCLUDED.source_file,
    source_line = EXCLUDED.source_line, raw = EXCLUDED.raw
