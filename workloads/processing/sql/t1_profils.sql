-- T1 (DataFusion, per micro-batch): one version per freelancer; the later Kafka offset wins.
-- Input `profils_valides`: the batch's profiles that passed every rule of the data contract.
SELECT topic, partition, kafka_offset, source_file, source_line,
       id, nom, prenom, email, competences, tarif_jour, ville, statut, date_inscription, extra
FROM (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY kafka_offset DESC) AS version_rank
    FROM profils_valides
) AS versions
WHERE version_rank = 1
