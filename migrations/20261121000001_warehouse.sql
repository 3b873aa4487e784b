-- FreelanceFlow warehouse: cleaned data, indicators, rejects and the consumer offsets that produced them.
-- Amounts are NUMERIC(12,2) as the data contract requires; dates are ISO DATE.

CREATE TABLE freelances (
    id               BIGINT PRIMARY KEY CHECK (id >= 1),
    nom              TEXT NOT NULL CHECK (btrim(nom) <> ''),
    prenom           TEXT,
    email            TEXT NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    competences      TEXT[] NOT NULL DEFAULT '{}',
    tarif_jour       NUMERIC(12,2) NOT NULL CHECK (tarif_jour > 0),
    ville            TEXT,
    statut           TEXT CHECK (statut IN ('disponible', 'en_mission')),
    date_inscription DATE,
    extra            JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- where the current version came from (the later Kafka offset wins)
    source_topic     TEXT NOT NULL,
    source_partition INT NOT NULL,
    source_offset    BIGINT NOT NULL,
    source_file      TEXT,
    source_line      BIGINT,
    ingested_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX freelances_competences_idx ON freelances USING gin (competences);
CREATE INDEX freelances_nom_idx ON freelances (lower(nom));

CREATE TABLE factures (
    facture_id       TEXT PRIMARY KEY,
    freelance_id     BIGINT NOT NULL REFERENCES freelances (id),
    montant          NUMERIC(12,2) NOT NULL CHECK (montant > 0),
    date             DATE NOT NULL,
    echeance         DATE NOT NULL,
    statut           TEXT NOT NULL CHECK (statut IN ('payee', 'en_attente')),
    jours            NUMERIC(12,2) NOT NULL CHECK (jours > 0),
    -- true when `jours` was not billed explicitly but derived as montant / tarif_jour
    jours_derives    BOOLEAN NOT NULL,
    client           TEXT,
    source_topic     TEXT NOT NULL,
    source_partition INT NOT NULL,
    source_offset    BIGINT NOT NULL,
    source_file      TEXT,
    source_line      BIGINT,
    -- first ingestion, kept on updates: "nouvelles factures du jour" counts on it
    ingested_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX factures_freelance_date_idx ON factures (freelance_id, date);
CREATE INDEX factures_date_idx ON factures (date);
CREATE INDEX factures_ingested_idx ON factures (ingested_at);
CREATE INDEX factures_retard_idx ON factures (echeance) WHERE statut <> 'payee';

-- Valid invoices whose freelancer is not known yet: retried when the profile arrives, rejected as
-- unknown_freelance when the end-of-load marker of their partition has been seen on both topics.
CREATE TABLE factures_en_attente (
    facture_id       TEXT PRIMARY KEY,
    freelance_id     BIGINT NOT NULL,
    montant          NUMERIC(12,2) NOT NULL,
    date             DATE NOT NULL,
    echeance         DATE NOT NULL,
    statut           TEXT NOT NULL,
    jours            NUMERIC(12,2),
    client           TEXT,
    source_topic     TEXT NOT NULL,
    source_partition INT NOT NULL,
    source_offset    BIGINT NOT NULL,
    source_file      TEXT,
    source_line      BIGINT,
    raw              TEXT NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX factures_en_attente_freelance_idx ON factures_en_attente (freelance_id);

-- T2 output, maintained incrementally by the workers in the batch transaction.
CREATE TABLE ca_freelance_mensuel (
    freelance_id BIGINT NOT NULL REFERENCES freelances (id),
    mois         DATE NOT NULL CHECK (extract(day FROM mois) = 1),
    ca           NUMERIC(16,2) NOT NULL,
    jours        NUMERIC(16,2) NOT NULL,
    nb_factures  BIGINT NOT NULL,
    PRIMARY KEY (freelance_id, mois)
);

CREATE TABLE indicateurs (
    kpi         TEXT NOT NULL,
    period      TEXT NOT NULL,
    dimension   TEXT NOT NULL DEFAULT '',
    value       NUMERIC NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kpi, period, dimension)
);

CREATE TABLE rejets (
    id           BIGSERIAL PRIMARY KEY,
    -- the same record rejected again (a file loaded twice) is one reject
    fingerprint  TEXT NOT NULL UNIQUE,
    entity       TEXT NOT NULL CHECK (entity IN ('profil', 'facture', 'inconnu')),
    rule         TEXT NOT NULL CHECK (rule IN ('invalid_json', 'invalid_csv', 'missing_field', 'invalid_email',
                                               'invalid_amount', 'invalid_date', 'unknown_freelance')),
    message      TEXT NOT NULL,
    source_file  TEXT,
    source_line  BIGINT,
    topic        TEXT,
    partition    INT,
    kafka_offset BIGINT,
    load_id      TEXT,
    raw          TEXT NOT NULL,
    rejected_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rejets_rule_idx ON rejets (rule);
CREATE INDEX rejets_file_idx ON rejets (source_file, source_line);

-- Consumer offsets stored outside Kafka, next to the rows they produced. `epoch` fences: a worker that
-- claims a partition bumps it, so a worker that lost the partition can no longer commit.
CREATE TABLE consumer_offsets (
    consumer_group TEXT NOT NULL,
    topic          TEXT NOT NULL,
    partition      INT NOT NULL,
    next_offset    BIGINT NOT NULL DEFAULT 0,
    epoch          BIGINT NOT NULL DEFAULT 0,
    owner          TEXT,
    claimed_at     TIMESTAMPTZ,
    committed_at   TIMESTAMPTZ,
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Worker liveness, heartbeated outside the batch transactions; read by the master.
CREATE TABLE workers (
    worker_id    TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    records      BIGINT NOT NULL DEFAULT 0,
    batches      BIGINT NOT NULL DEFAULT 0
);

-- End-of-load markers seen per topic and partition.
CREATE TABLE fins_chargement (
    load_id   TEXT NOT NULL,
    topic     TEXT NOT NULL,
    partition INT NOT NULL,
    seen_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (load_id, topic, partition)
);

-- Files the broker acknowledged entirely (the loader skips them unless forced).
CREATE TABLE fichiers_charges (
    sha256     TEXT PRIMARY KEY,
    file_name  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('profils', 'factures')),
    records    BIGINT NOT NULL,
    published  BIGINT NOT NULL,
    refused    BIGINT NOT NULL,
    load_id    TEXT NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Settings of the T3 run (as_of, ...), written by the master.
CREATE TABLE parametres (
    cle    TEXT PRIMARY KEY,
    valeur TEXT NOT NULL,
    maj_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
