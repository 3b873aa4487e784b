-- Views for the dashboards that the first set lacked, and the read-only roles that BI tools and the
-- built-in dashboards use. Every dashboard number (web app, Grafana, Power BI) comes from a v_ view.

-- Revenue per freelancer and month with what the filters need (skills), from the workers' T2 table.
CREATE VIEW v_ca_freelance_mensuel AS
SELECT c.freelance_id, f.nom, f.prenom, f.competences, c.mois, to_char(c.mois, 'YYYY-MM') AS periode,
       c.ca, c.jours, c.nb_factures
FROM ca_freelance_mensuel c
JOIN freelances f ON f.id = c.freelance_id;

-- "Nouvelles factures du jour": invoices first ingested on the current day (the warehouse's clock).
CREATE VIEW v_factures_du_jour AS
SELECT count(*) AS nb_factures, coalesce(sum(montant), 0) AS montant
FROM factures
WHERE ingested_at >= current_date AND ingested_at < current_date + 1;

-- Pipeline health for the live dashboard: workers and their last heartbeat, partitions and their owners.
CREATE VIEW v_workers AS
SELECT worker_id, host, pid, heartbeat_at, extract(epoch FROM now() - heartbeat_at)::float8 AS secondes_depuis,
       records, batches
FROM workers;

CREATE VIEW v_partitions AS
SELECT consumer_group, topic, partition, owner, next_offset, claimed_at
FROM consumer_offsets;

-- Views run with their owner's rights, but a function they call runs with the caller's: without this,
-- a reader that may not read `parametres` and `factures` fails on every view using ff_as_of().
ALTER FUNCTION ff_as_of() SECURITY DEFINER SET search_path = public, pg_temp;

-- Roles: `freelanceflow_reader` for the built-in dashboards and Grafana, `powerbi_reader` for Power BI.
-- Both are group roles without login: an administrator grants them to login roles. Creating roles needs
-- CREATEROLE; a migration run without it (a database owner on a managed service) leaves that to the DBA.
DO $$
DECLARE
    r TEXT;
    can_create BOOLEAN := (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user);
BEGIN
    FOREACH r IN ARRAY ARRAY['freelanceflow_reader', 'powerbi_reader'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            IF NOT can_create THEN
                RAISE NOTICE 'role % does not exist and % cannot create it: ask a DBA (docs/powerbi.md)', r, current_user;
                CONTINUE;
            END IF;
            -- roles are shared by every database of the cluster: another migration may create it now
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);
        EXECUTE format('GRANT SELECT ON v_freelances_mission, v_top10_ca, v_revenus_mensuels, v_competences,
                        v_occupation, v_freelances_disponibles, v_factures_recentes, v_factures_en_retard,
                        v_kpis, v_rejets_par_regle, v_ca_freelance_mensuel, v_factures_du_jour, v_workers,
                        v_partitions TO %I', r);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ff_as_of() TO %I', r);
    END LOOP;
    -- the migrating role may act as the dashboards' reader (`SET ROLE freelanceflow_reader`)
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'freelanceflow_reader') AND can_create THEN
        BEGIN
            EXECUTE format('GRANT freelanceflow_reader TO %I', current_user);
        EXCEPTION WHEN unique_violation THEN
            NULL;  -- granted at the same moment by a migration of another database
        END;
    END IF;
END
$$;
