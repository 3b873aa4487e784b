-- T2 (DataFusion): per-freelancer monthly financials, maintained incrementally. The change a batch
-- brings is its new invoice versions minus the stored versions they replace (`factures_anciennes`).
SELECT freelance_id,
       CAST(date_trunc('month', date) AS DATE) AS mois,
       sum(montant) AS ca,
       sum(jours) AS jours,
       sum(n) AS nb_factures
FROM (
    SELECT freelance_id, date, montant, jours, CAST(1 AS BIGINT) AS n FROM factures_nouvelles
    UNION ALL
    SELECT freelance_id, date, -montant, -jours, CAST(-1 AS BIGINT) AS n FROM factures_anciennes
    WHERE facture_id IN (SELECT facture_id FROM factures_nouvelles)
) AS changes
GROUP BY freelance_id, CAST(date_trunc('month', date) AS DATE)
HAVING sum(montant) <> 0 OR sum(jours) <> 0 OR sum(n) <> 0
