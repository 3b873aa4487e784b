-- A freelancer's daily rate changed: its derived billed days and its T2 rows are recomputed in full.
UPDATE factures x SET jours = round(x.montant / f.tarif_jour, 2), updated_at = now()
FROM freelances f
WHERE f.id = x.freelance_id AND x.jours_derives AND x.freelance_id = ANY($1)
  AND x.jours <> round(x.montant / f.tarif_jour, 2);
DELETE FROM ca_freelance_mensuel WHERE freelance_id = ANY($1);
INSERT INTO ca_freelance_mensuel (freelance_id, mois, ca, jours, nb_factures)
SELECT freelance_id, date_trunc('month', date)::date, sum(montant), sum(jours), count(*)
FROM factures
WHERE freelance_id = ANY($1)
GROUP BY freelance_id, date_trunc('month', date);
