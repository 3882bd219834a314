-- canbao 015: each night's rows in tables of their own (issue 8).
--
-- list_rows, list_evidence and run_items hold every night a bureau has run: 143,000 list rows,
-- their evidence and their items a night at Yanji's scale, some millions at a province's.  A
-- night's COPY put each row into every index of these tables one entry at a time (six indexes,
-- four of them unique), and the indexes grew with every night kept: list_rows_person and
-- run_items_item take each night's entries at places spread over all earlier nights'.  At S,
-- 14 nights in, the three COPYs took 1.7-2.0, 0.9 and 1.5-1.7 s; into tables without indexes,
-- 1.2, 0.5 and 0.15 s, and building their indexes afterwards by sorting 0.1-0.3 s each.
--
-- So the three are now partitioned by run_id, one partition a run, and a night fills its own:
--   canbao.run_table_create(table, run) makes <table>_night (the table's columns, defaults and
--     checks, no indexes), which the engine COPYs into;
--   canbao.run_table_attach(table, run) names it <table>_<run> and attaches it, which builds its
--     indexes from the rows
--     (PostgreSQL creates on an attached partition the indexes and keys of the partitioned
--     table that it lacks).
-- A night's cost no longer grows with the nights kept, and a night can be dropped whole:
-- run_delete drops a run's partitions instead of deleting their rows.  Queries that name a run
-- (every nightly function does: run_id = p_run) read its partition alone.
--
-- The rows stored before this migration stay where they are: the old tables become one
-- partition each, <table>_history, for the run ids up to the last one given out.  The views over
-- the three tables are made again over the partitioned ones, with the same text; list_rows keeps
-- its row-level security, policies and grants.  The night's partitions are read through the
-- partitioned tables: the township roles have no grant on them (a night's list_rows has
-- row-level security enabled and no policy, so a direct read shows nothing but to the owner).

SET LOCAL search_path = pg_catalog, pg_temp;

-- the views over the three tables, their text with every name qualified (search_path above)
CREATE TEMP TABLE v015_views ON COMMIT DROP AS
SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def,
       coalesce(array_to_string(c.reloptions, ', '), '') AS options
  FROM pg_depend d
  JOIN pg_rewrite w ON w.oid = d.objid
  JOIN pg_class c ON c.oid = w.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid IN ('canbao.list_rows'::regclass, 'canbao.list_evidence'::regclass,
                      'canbao.run_items'::regclass)
   AND c.relkind = 'v';

ALTER TABLE canbao.list_rows RENAME TO list_rows_history;
ALTER INDEX canbao.list_rows_pkey RENAME TO list_rows_history_pkey;
ALTER INDEX canbao.list_rows_person RENAME TO list_rows_history_person;
ALTER TABLE canbao.list_evidence RENAME TO list_evidence_history;
ALTER INDEX canbao.list_evidence_row RENAME TO list_evidence_history_row;
ALTER TABLE canbao.run_items RENAME TO run_items_history;
ALTER INDEX canbao.run_items_pkey RENAME TO run_items_history_pkey;
ALTER INDEX canbao.run_items_run_id_list_name_row_no_key RENAME TO run_items_history_run_id_list_name_row_no_key;
ALTER INDEX canbao.run_items_item RENAME TO run_items_history_item;

CREATE TABLE canbao.list_rows (LIKE canbao.list_rows_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                               INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS)
    PARTITION BY RANGE (run_id);
ALTER TABLE canbao.list_rows ADD PRIMARY KEY (run_id, list_name, row_no);
CREATE INDEX list_rows_person ON canbao.list_rows (id_number);

CREATE TABLE canbao.list_evidence (LIKE canbao.list_evidence_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                                   INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS)
    PARTITION BY RANGE (run_id);
CREATE INDEX list_evidence_row ON canbao.list_evidence (run_id, list_name, row_no);

CREATE TABLE canbao.run_items (LIKE canbao.run_items_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS
                               INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS)
    PARTITION BY RANGE (run_id);
ALTER TABLE canbao.run_items ADD PRIMARY KEY (run_id, item_id);
ALTER TABLE canbao.run_items ADD UNIQUE (run_id, list_name, row_no);
CREATE INDEX run_items_item ON canbao.run_items (item_id);

-- 009's list_row_columns takes a row of list_rows: the same for the partitioned table, whose
-- row type is a new one (the old function follows the old table's type, and goes once the
-- views use the new one)
CREATE FUNCTION canbao.list_row_columns(l canbao.list_rows)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('rule', l.rule, 'rule_version', l.rule_version)
           || CASE WHEN l.id_number IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('id_number', l.id_number::text) END
           || l.columns
$$;

-- the views, made again over the partitioned tables (the same columns: their grants stay)
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT * FROM v015_views ORDER BY name LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %s %s AS %s', v.name,
                       CASE WHEN v.options = '' THEN '' ELSE 'WITH (' || v.options || ')' END,
                       rtrim(v.def, ';'));
    END LOOP;
END
$$;

DROP FUNCTION canbao.list_row_columns(canbao.list_rows_history);

-- The old rows: a partition for the run ids given out so far (its indexes match and are taken
-- as they are), or nothing when there are none.
DO $$
DECLARE
    v_next bigint;
    v_max bigint;
    t text;
BEGIN
    SELECT CASE WHEN s.is_called THEN s.last_value + 1 ELSE s.last_value END INTO STRICT v_next
      FROM canbao.runs_run_id_seq s;
    FOREACH t IN ARRAY ARRAY['list_rows', 'list_evidence', 'run_items'] LOOP
        EXECUTE format('SELECT max(run_id) FROM canbao.%I', t || '_history') INTO v_max;
        IF v_max IS NULL THEN
            EXECUTE format('DROP TABLE canbao.%I', t || '_history');
        ELSE
            EXECUTE format('ALTER TABLE canbao.%I ATTACH PARTITION canbao.%I FOR VALUES FROM (MINVALUE) TO (%s)',
                           t, t || '_history', greatest(v_next, v_max + 1));
        END IF;
    END LOOP;
END
$$;

-- list_rows as 005 left it: row-level security, its policies, its grants
ALTER TABLE canbao.list_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY engine_all ON canbao.list_rows TO canbao_engine USING (true) WITH CHECK (true);
CREATE POLICY bureau_read ON canbao.list_rows FOR SELECT TO canbao_bureau USING (true);
CREATE POLICY township_own ON canbao.list_rows FOR SELECT TO canbao_township
    USING (canbao.may_see_township(township, current_user));
GRANT SELECT, INSERT, UPDATE, DELETE ON canbao.list_rows, canbao.list_evidence, canbao.run_items TO canbao_engine;
GRANT SELECT ON canbao.list_rows, canbao.list_evidence, canbao.run_items TO canbao_bureau;
GRANT SELECT (run_id, list_name, row_no, township, village, household, rule, rule_version)
    ON canbao.list_rows TO canbao_township;
-- the old rows are read through the partitioned table, like a night's
DO $$
BEGIN
    IF to_regclass('canbao.list_rows_history') IS NOT NULL THEN
        REVOKE ALL ON canbao.list_rows_history FROM canbao_township;
    END IF;
END
$$;

-- Refuses (naming the caller) a table that is not one of the three, or a run not running.
CREATE FUNCTION canbao.night_table_check(p_caller text, p_table text, p_run bigint)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_table IS NULL OR p_table NOT IN ('list_rows', 'list_evidence', 'run_items') THEN
        RAISE EXCEPTION '%: % is not a table of a night (list_rows, list_evidence, run_items)',
            p_caller, coalesce(p_table, 'NULL');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM canbao.runs r WHERE r.run_id = p_run AND r.state = 'running') THEN
        RAISE EXCEPTION '%: run % is not running', p_caller, p_run;
    END IF;
END
$$;

-- A night's table of one of the three, empty and without indexes, for the engine to COPY into:
-- canbao.<table>_night until run_table_attach names it after the run (one run at a time holds
-- the run lock, and a failed run's transaction takes it away).  Only for a run still running,
-- owned by the tables' owner (the engine may not create tables), with the grants of the
-- partitioned table.
CREATE FUNCTION canbao.run_table_create(p_table text, p_run bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name text := p_table || '_night';
BEGIN
    PERFORM canbao.night_table_check('run_table_create', p_table, p_run);
    EXECUTE format('CREATE TABLE canbao.%I (LIKE canbao.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                   'INCLUDING STORAGE INCLUDING COMPRESSION)', v_name, p_table);
    IF p_table = 'list_rows' THEN
        EXECUTE format('ALTER TABLE canbao.%I ENABLE ROW LEVEL SECURITY', v_name);
    END IF;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON canbao.%I TO canbao_engine', v_name);
    EXECUTE format('GRANT SELECT ON canbao.%I TO canbao_bureau', v_name);
END
$$;
REVOKE EXECUTE ON FUNCTION canbao.run_table_create(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canbao.run_table_create(text, bigint) TO canbao_engine;

-- Attaches the night's table filled since run_table_create, as <table>_<run>: PostgreSQL checks
-- that its rows are the run's and builds its indexes and keys.  Then a small sample of it is
-- analysed: without statistics of its own, the planner takes "run_id = the run" for half a
-- percent of its rows (717 of 143,000 at S) and joins them one by one (the night's check and
-- publication took twice as long).  3,000 rows (statistics target 10) tell it enough: one run,
-- ten lists, the items unique; 20-70 ms a table at S.
CREATE FUNCTION canbao.run_table_attach(p_table text, p_run bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET default_statistics_target = 10 AS $$
DECLARE
    v_name text := p_table || '_' || p_run;
BEGIN
    PERFORM canbao.night_table_check('run_table_attach', p_table, p_run);
    EXECUTE format('ALTER TABLE canbao.%I RENAME TO %I', p_table || '_night', v_name);
    EXECUTE format('ALTER TABLE canbao.%I ATTACH PARTITION canbao.%I FOR VALUES FROM (%s) TO (%s)',
                   p_table, v_name, p_run, p_run + 1);
    EXECUTE format('ANALYZE canbao.%I', v_name);
END
$$;
REVOKE EXECUTE ON FUNCTION canbao.run_table_attach(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canbao.run_table_attach(text, bigint) TO canbao_engine;

-- Deletes a run and everything it stored; a night's own tables are dropped whole.  The items it
-- listed stay: they belong to the lifecycle, not to one run.
CREATE OR REPLACE FUNCTION canbao.run_delete(p_run bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    v_part regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['run_items', 'list_evidence', 'list_rows'] LOOP
        SELECT i.inhrelid::regclass INTO v_part
          FROM pg_catalog.pg_inherits i
         WHERE i.inhparent = format('canbao.%I', t)::regclass
           AND i.inhrelid = to_regclass(format('canbao.%I', t || '_' || p_run));
        IF v_part IS NOT NULL THEN
            EXECUTE format('DROP TABLE %s', v_part);
        ELSE
            EXECUTE format('DELETE FROM canbao.%I WHERE run_id = $1', t) USING p_run;
        END IF;
    END LOOP;
    DELETE FROM canbao.runs WHERE run_id = p_run;
END
$$;

-- A query that names its night only through a parameter is planned for every night's table,
-- and its estimated cost is the sum of them all: the plan of 010's run_numbers_hold (a SQL
-- function, planned with p_run unknown) crossed PostgreSQL's JIT thresholds after some nights,
-- and its compiling took 1.3 s of run_check's 1.4 s with 48 nights kept at S (0.4 s with 8).
-- In PL/pgSQL the night is known when the query is planned (a custom plan with its value), so
-- the plan holds the night's table alone.  The same for the report's cohort, a month back.
CREATE OR REPLACE FUNCTION canbao.run_numbers_hold(p_run bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    WITH lr AS (SELECT l.list_name, count(*) AS n, min(l.row_no) AS lo, max(l.row_no) AS hi
                  FROM canbao.list_rows l WHERE l.run_id = p_run GROUP BY l.list_name),
         sf AS (SELECT count(*) AS n, min(f.file_no) AS lo, max(f.file_no) AS hi
                  FROM canbao.source_files f WHERE f.run_id = p_run),
         ev AS (SELECT e.list_name, min(e.row_no) AS lo, max(e.row_no) AS hi,
                       min(e.file_no) AS flo, max(e.file_no) AS fhi
                  FROM canbao.list_evidence e WHERE e.run_id = p_run GROUP BY e.list_name),
         ri AS (SELECT r.list_name, min(r.row_no) AS lo, max(r.row_no) AS hi
                  FROM canbao.run_items r WHERE r.run_id = p_run GROUP BY r.list_name)
    SELECT (NOT EXISTS (SELECT 1 FROM lr) OR EXISTS (SELECT 1 FROM canbao.runs r WHERE r.run_id = p_run))
       AND NOT EXISTS (SELECT 1 FROM lr WHERE (lr.lo = 1 AND lr.hi = lr.n) IS NOT TRUE)
       AND NOT EXISTS (SELECT 1 FROM ev LEFT JOIN lr USING (list_name) CROSS JOIN sf
                        WHERE (ev.lo >= 1 AND ev.hi <= lr.n AND sf.lo = 0 AND sf.hi = sf.n - 1
                               AND ev.flo >= 0 AND ev.fhi <= sf.hi) IS NOT TRUE)
       AND NOT EXISTS (SELECT 1 FROM ri LEFT JOIN lr USING (list_name)
                        WHERE (ri.lo >= 1 AND ri.hi <= lr.n) IS NOT TRUE));
END
$$;

CREATE OR REPLACE FUNCTION canbao.report_cohort(p_asof date, p_list text)
RETURNS TABLE (cohort_asof date, id_number char(18), township text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_run bigint;
    v_asof date;
BEGIN
    SELECT r.run_id, r.asof INTO v_run, v_asof
      FROM canbao.runs r
     WHERE r.state = 'succeeded' AND r.asof <= (p_asof - interval '1 month')::date
     ORDER BY r.asof DESC, r.run_id DESC
     LIMIT 1;
    IF v_run IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT v_asof, l.id_number, l.township
      FROM canbao.list_rows l
     WHERE l.run_id = v_run AND l.list_name = p_list
     ORDER BY l.id_number;
END
$$;

ANALYZE canbao.list_rows;
ANALYZE canbao.list_evidence;
ANALYZE canbao.run_items;
