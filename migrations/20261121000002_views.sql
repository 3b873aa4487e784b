-- Dashboard views: Power BI, Grafana and the built-in dashboards read the same numbers from here.

-- The reference date of the indicators: the one the master's last T3 run used (see `freelanceflow master
-- --as-of`), else the latest valid invoice date, else today.
CREATE FUNCTION ff_as_of() RETURNS date LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT valeur::date FROM parametres WHERE cle = 'as_of'),
        (SELECT max(date) FROM factures),
        current_date)
$$;

-- One row per freelancer: is it on a mission at as_of? (contract section 4, "En mission")
CREATE VIEW v_freelances_mission AS
SELECT f.id,
       f.nom,
       f.prenom,
       f.competences,
       f.tarif_jour,
       f.ville,
       f.statut,
       CASE
           WHEN f.statut IS NOT NULL THEN f.statut = 'en_mission'
           ELSE EXISTS (SELECT 1 FROM factures x
                         WHERE x.freelance_id = f.id
                           AND x.date BETWEEN ff_as_of() - 29 AND ff_as_of())
       END AS en_mission
FROM freelances f;

CREATE VIEW v_top10_ca AS
SELECT f.id AS freelance_id, f.nom, f.prenom, sum(c.ca) AS ca, sum(c.jours) AS jours
FROM ca_freelance_mensuel c
JOIN freelances f ON f.id = c.freelance_id
GROUP BY f.id, f.nom, f.prenom
ORDER BY ca DESC, f.id
LIMIT 10;

CREATE VIEW v_revenus_mensuels AS
SELECT mois, to_char(mois, 'YYYY-MM') AS periode, sum(ca) AS ca, sum(jours) AS jours,
       sum(nb_factures) AS nb_factures
FROM ca_freelance_mensuel
GROUP BY mois
HAVING sum(nb_factures) > 0
ORDER BY mois;

CREATE VIEW v_competences AS
SELECT lower(btrim(s.skill)) AS competence,
       min(s.skill) AS libelle,
       count(*) AS nb_freelances,
       round(avg(m.tarif_jour), 2) AS tjm_moyen,
       count(*) FILTER (WHERE NOT m.en_mission) AS nb_disponibles,
       count(*) FILTER (WHERE m.en_mission) AS nb_en_mission
FROM v_freelances_mission m
CROSS JOIN LATERAL unnest(m.competences) AS s(skill)
GROUP BY lower(btrim(s.skill));

CREATE VIEW v_occupation AS
SELECT ff_as_of() AS as_of,
       count(*) AS nb_freelances,
       count(*) FILTER (WHERE en_mission) AS en_mission,
       count(*) FILTER (WHERE NOT en_mission) AS disponibles,
       CASE WHEN count(*) = 0 THEN 0
            ELSE round(100.0 * count(*) FILTER (WHERE en_mission) / count(*), 2) END AS taux_occupation
FROM v_freelances_mission;

CREATE VIEW v_freelances_disponibles AS
SELECT id, nom, prenom, competences, tarif_jour, ville
FROM v_freelances_mission
WHERE NOT en_mission;

CREATE VIEW v_factures_recentes AS
SELECT x.facture_id, x.freelance_id, f.nom, x.montant, x.date, x.echeance, x.statut, x.client, x.ingested_at
FROM factures x
JOIN freelances f ON f.id = x.freelance_id
ORDER BY x.ingested_at DESC, x.facture_id DESC;

CREATE VIEW v_factures_en_retard AS
SELECT x.facture_id, x.freelance_id, f.nom, x.montant, x.date, x.echeance,
       ff_as_of() - x.echeance AS jours_de_retard
FROM factures x
JOIN freelances f ON f.id = x.freelance_id
WHERE x.statut <> 'payee' AND x.echeance < ff_as_of();

CREATE VIEW v_kpis AS
SELECT kpi, period, value, computed_at
FROM indicateurs
WHERE dimension = '';

CREATE VIEW v_rejets_par_regle AS
SELECT entity, rule, count(*) AS nb
FROM rejets
GROUP BY entity, rule;
