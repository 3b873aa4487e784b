-- T1 (DataFusion, per micro-batch): one version per freelancer; the later Kafka offset wins.
-- Input `profils_valides`: the batch's profiles that passed every rule of the data contract.
-- (An anti-join, not row_number(): DataFusion's window operator walks one partition per key.)
SELECT p.topic, p.partition, p.kafka_offset, p.source_file, p.source_line,
       p.id, p.nom, p.prenom, p.email, p.competences, p.tarif_jour, p.ville, p.statut,
       p.date_inscription, p.extra
FROM profils_valides AS p
WHERE NOT EXISTS (
    SELECT 1 FROM profils_valides AS later
    WHERE later.id = p.id
      AND (later.kafka_offset > p.kafka_offset
           OR (later.kafka_offset = p.kafka_offset AND later.partition > p.partition))
)
