-- Upserts the batch's profiles. An identical profile loaded again changes nothing (not even updated_at).
-- Returns the freelancers whose daily rate changed: their derived billed days are recomputed.
WITH previous AS (
    SELECT f.id, f.tarif_jour
    FROM freelances f
    JOIN stg_profils s ON s.id = f.id
), upserted AS (
    INSERT INTO freelances AS f (id, nom, prenom, email, competences, tarif_jour, ville, statut, date_inscription,
                                 extra, source_topic, source_partition, source_offset, source_file, source_line)
    SELECT id, nom, prenom, email,
           ARRAY(SELECT jsonb_array_elements_text(competences)),
           tarif_jour, ville, statut, date_inscription, extra,
           topic, partition, kafka_offset, source_file, source_line
    FROM stg_profils
    ON CONFLICT (id) DO UPDATE SET
        nom = EXCLUDED.nom, prenom = EXCLUDED.prenom, email = EXCLUDED.email,
        competences = EXCLUDED.competences, tarif_jour = EXCLUDED.tarif_jour, ville = EXCLUDED.ville,
        statut = EXCLUDED.statut, date_inscription = EXCLUDED.date_inscription, extra = EXCLUDED.extra,
        source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition,
        source_offset = EXCLUDED.source_offset, source_file = EXCLUDED.source_file,
        source_line = EXCLUDED.source_line, updated_at = now()
    WHERE (f.nom, f.prenom, f.email, f.competences, f.tarif_jour, f.ville, f.statut, f.date_inscription, f.extra)
          IS DISTINCT FROM
          (EXCLUDED.nom, EXCLUDED.prenom, EXCLUDED.email, EXCLUDED.competences, EXCLUDED.tarif_jour,
           EXCLUDED.ville, EXCLUDED.statut, EXCLUDED.date_inscription, EXCLUDED.extra)
    RETURNING f.id, f.tarif_jour
)
SELECT u.id
FROM upserted u
JOIN previous p ON p.id = u.id
WHERE p.tarif_jour <> u.tarif_jour
