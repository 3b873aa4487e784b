-- Every reject is recorded once: the same record rejected again (a file loaded twice) is not duplicated.
INSERT INTO rejets (fingerprint, entity, rule, message, source_file, source_line, topic, partition, kafka_offset,
                    load_id, raw)
SELECT fingerprint, entity, rule, message, source_file, source_line, topic, partition, kafka_offset, load_id, raw
FROM stg_rejets
ON CONFLICT (fingerprint) DO NOTHING
