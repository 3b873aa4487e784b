-- Per-connection staging tables of a worker: filled with COPY, emptied at every commit.
CREATE TEMP TABLE IF NOT EXISTS stg_profils (
    topic TEXT, partition INT, kafka_offset BIGINT, source_file TEXT, source_line BIGINT,
    id BIGINT, nom TEXT, prenom TEXT, email TEXT, competences JSONB, tarif_jour NUMERIC(12,2),
    ville TEXT, statut TEXT, date_inscription DATE, extra JSONB
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stg_factures (
    source_topic TEXT, source_partition INT, source_offset BIGINT, source_file TEXT, source_line BIGINT,
    facture_id TEXT, freelance_id BIGINT, montant NUMERIC(12,2), date DATE, echeance DATE, statut TEXT,
    jours NUMERIC(12,2), jours_derives BOOLEAN, client TEXT
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stg_attente (LIKE factures_en_attente INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stg_t2 (
    freelance_id BIGINT, mois DATE, ca NUMERIC(16,2), jours NUMERIC(16,2), nb_factures BIGINT
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stg_rejets (
    fingerprint TEXT, entity TEXT, rule TEXT, message TEXT, source_file TEXT, source_line BIGINT,
    topic TEXT, partition INT, kafka_offset BIGINT, load_id TEXT, raw TEXT
) ON COMMIT DELETE ROWS;
