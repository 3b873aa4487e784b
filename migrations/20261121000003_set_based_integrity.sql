-- factures.freelance_id -> freelances.id, checked once per statement instead of once per row.
--
-- A declared foreign key runs one `SELECT ... FOR KEY SHARE` per inserted invoice: at 1M invoices it was
-- half the time of the COPY into `factures` (13.2 s against 8.7 s without it, docs/benchmarks.md).
-- The same rule checked as one anti-join over the statement's new rows costs a sixth of that, and is still
-- enforced by the database for every writer, not only by the pipeline.

ALTER TABLE factures DROP CONSTRAINT IF EXISTS factures_freelance_id_fkey;

CREATE FUNCTION ff_check_factures_freelance() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing BIGINT;
BEGIN
    SELECT n.freelance_id INTO missing
      FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM freelances f WHERE f.id = n.freelance_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "factures" violates the reference to "freelances"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (freelance_id)=(%s) is not present in table "freelances".', missing);
    END IF;
    RETURN NULL;
END
$$;

-- A trigger with a transition table takes one event: one for INSERT (COPY included), one for UPDATE.
CREATE TRIGGER factures_freelance_ref_insert
    AFTER INSERT ON factures REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ff_check_factures_freelance();
CREATE TRIGGER factures_freelance_ref_update
    AFTER UPDATE ON factures REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ff_check_factures_freelance();

-- The parent side. The pipeline never deletes a freelancer nor changes an id; whoever does must not leave
-- invoices behind. The SHARE lock waits for the transactions writing invoices and holds off new ones, so a
-- concurrent insert cannot slip an invoice in between the check and the commit.
CREATE FUNCTION ff_lock_factures_for_parent_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE factures IN SHARE MODE;
    RETURN NULL;
END
$$;

CREATE FUNCTION ff_check_freelances_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    orphan BIGINT;
BEGIN
    SELECT o.id INTO orphan
      FROM old_rows o
     WHERE EXISTS (SELECT 1 FROM factures f WHERE f.freelance_id = o.id)
       AND NOT EXISTS (SELECT 1 FROM freelances p WHERE p.id = o.id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "freelances" violates the reference from "factures"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "factures".', orphan);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER freelances_lock_before_delete
    BEFORE DELETE ON freelances
    FOR EACH STATEMENT EXECUTE FUNCTION ff_lock_factures_for_parent_change();
CREATE TRIGGER freelances_lock_before_update_id
    BEFORE UPDATE OF id ON freelances
    FOR EACH STATEMENT EXECUTE FUNCTION ff_lock_factures_for_parent_change();
CREATE TRIGGER freelances_ref_delete
    AFTER DELETE ON freelances REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ff_check_freelances_referenced();
CREATE TRIGGER freelances_ref_update
    AFTER UPDATE ON freelances REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ff_check_freelances_referenced();
