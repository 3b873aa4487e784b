-- Applies the T2 deltas of a batch; months left without invoices are removed.
INSERT INTO ca_freelance_mensuel AS c (freelance_id, mois, ca, jours, nb_factures)
SELECT freelance_id, mois, ca, jours, nb_factures FROM stg_t2
ON CONFLICT (freelance_id, mois) DO UPDATE SET
    ca = c.ca + EXCLUDED.ca, jours = c.jours + EXCLUDED.jours, nb_factures = c.nb_factures + EXCLUDED.nb_factures;
DELETE FROM ca_freelance_mensuel WHERE nb_factures = 0 AND freelance_id IN (SELECT freelance_id FROM stg_t2);
