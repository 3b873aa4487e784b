-- T3 (master): every indicator of the data contract, section 4, recomputed in one transaction.
-- $1 is as_of, the reference date (see `freelanceflow master --as-of`). Statements are separated by
-- lines ending with `;`; each may use $1.
DELETE FROM indicateurs;

-- CA par freelance: all time and per calendar month (from the workers' T2 table).
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'ca_freelance', 'all', freelance_id::text, sum(ca)
FROM ca_freelance_mensuel GROUP BY freelance_id;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'ca_freelance', to_char(mois, 'YYYY-MM'), freelance_id::text, ca
FROM ca_freelance_mensuel;

-- CA total, all time and per month; Revenus mensuels; Jours facturés.
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'ca_total', 'all', '', coalesce(sum(ca), 0) FROM ca_freelance_mensuel;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT k.kpi, to_char(c.mois, 'YYYY-MM'), '', CASE k.kpi WHEN 'jours_factures' THEN sum(c.jours) ELSE sum(c.ca) END
FROM ca_freelance_mensuel c
CROSS JOIN (VALUES ('ca_total'), ('revenus_mensuels'), ('jours_factures')) AS k(kpi)
GROUP BY k.kpi, c.mois;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'jours_factures', 'all', '', coalesce(sum(jours), 0) FROM ca_freelance_mensuel;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'nb_factures', 'all', '', coalesce(sum(nb_factures), 0) FROM ca_freelance_mensuel;

-- TJM moyen, overall and per skill (skills compared case-insensitively).
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'tjm_moyen', 'all', '', avg(tarif_jour) FROM freelances HAVING count(*) > 0;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'tjm_moyen_competence', 'all', skill, avg(tarif_jour)
FROM (SELECT DISTINCT f.id, f.tarif_jour, lower(btrim(s)) AS skill
      FROM freelances f CROSS JOIN LATERAL unnest(f.competences) AS s) AS per_skill
GROUP BY skill;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'nb_freelances', 'all', '', count(*) FROM freelances;

-- Top compétences demandées: billed days of the freelancers having the skill, over the 12 calendar
-- months ending with the month of as_of; the rank breaks ties by name.
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT kpi, period, skill, value
FROM (
    SELECT skill, jours,
           to_char(date_trunc('month', $1::date) - interval '11 months', 'YYYY-MM') || '/' || to_char($1::date, 'YYYY-MM') AS period,
           row_number() OVER (ORDER BY jours DESC, skill) AS rang
    FROM (
        SELECT ps.skill, sum(c.jours) AS jours
        FROM (SELECT DISTINCT f.id, lower(btrim(s)) AS skill
              FROM freelances f CROSS JOIN LATERAL unnest(f.competences) AS s) AS ps
        JOIN ca_freelance_mensuel c ON c.freelance_id = ps.id
        WHERE c.mois BETWEEN (date_trunc('month', $1::date) - interval '11 months')::date
                         AND date_trunc('month', $1::date)::date
        GROUP BY ps.skill
    ) AS days_per_skill
) AS ranked
CROSS JOIN LATERAL (VALUES ('top_competences', jours), ('top_competences_rang', rang::numeric)) AS k(kpi, value);

-- En mission / disponibles / taux d'occupation at as_of.
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT k.kpi, $1::date::text, '', k.value
FROM (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE en_mission) AS en_mission
    FROM (
        SELECT CASE WHEN f.statut IS NOT NULL THEN f.statut = 'en_mission'
                    ELSE EXISTS (SELECT 1 FROM factures x WHERE x.freelance_id = f.id
                                   AND x.date BETWEEN $1::date - 29 AND $1::date)
               END AS en_mission
        FROM freelances f
    ) AS m
) AS t
CROSS JOIN LATERAL (VALUES
    ('freelances_en_mission', t.en_mission::numeric),
    ('freelances_disponibles', (t.total - t.en_mission)::numeric),
    ('taux_occupation', CASE WHEN t.total = 0 THEN 0 ELSE 100.0 * t.en_mission / t.total END)
) AS k(kpi, value);

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'freelances_disponibles', $1::date::text, skill, count(*)
FROM (
    SELECT DISTINCT f.id, lower(btrim(s)) AS skill
    FROM freelances f CROSS JOIN LATERAL unnest(f.competences) AS s
    WHERE NOT CASE WHEN f.statut IS NOT NULL THEN f.statut = 'en_mission'
                   ELSE EXISTS (SELECT 1 FROM factures x WHERE x.freelance_id = f.id
                                  AND x.date BETWEEN $1::date - 29 AND $1::date)
              END
) AS available
GROUP BY skill;

-- Factures en retard: not paid and past due at as_of.
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT k.kpi, $1::date::text, '', k.value
FROM (SELECT count(*) AS n, coalesce(sum(montant), 0) AS total
      FROM factures WHERE statut <> 'payee' AND echeance < $1::date) AS r
CROSS JOIN LATERAL (VALUES ('factures_en_retard', r.n::numeric), ('montant_en_retard', r.total)) AS k(kpi, value);

-- Nouvelles factures du jour: first ingested today (the warehouse's clock).
INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'nouvelles_factures_du_jour', current_date::text, '', count(*)
FROM factures WHERE ingested_at >= current_date AND ingested_at < current_date + 1;

INSERT INTO indicateurs (kpi, period, dimension, value)
SELECT 'nb_rejets', 'all', '', count(*) FROM rejets;
