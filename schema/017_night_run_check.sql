-- canbao 017: a night's table knows its run before its COPY (issue 8).
--
-- run_table_attach (015) attached a night's table with ATTACH PARTITION, which scans every row
-- to prove it lies within the partition's bounds: the three tables again after their COPY
-- (23-50 MB each at S, about 90 ms of the database's time in all).  A CHECK constraint that
-- implies the bounds spares that scan (PostgreSQL's documented way to attach without it), so
-- run_table_create now gives the night's table
--   - the constraint night_run (run_id = the run), checked on each row as it is copied in;
--   - the run as run_id's default, so that the engine's COPY leaves the column out (it wrote
--     the same number on 537,000 rows at S, and the server parsed it as often).
-- run_table_attach drops both once the table is attached: a night's partition is the same as
-- 015 made it, its bound the only constraint on run_id.

CREATE OR REPLACE FUNCTION canbao.run_table_create(p_table text, p_run bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name text := p_table || '_night';
BEGIN
    PERFORM canbao.night_table_check('run_table_create', p_table, p_run);
    EXECUTE format('CREATE TABLE canbao.%I (LIKE canbao.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                   'INCLUDING STORAGE INCLUDING COMPRESSION)', v_name, p_table);
    EXECUTE format('ALTER TABLE canbao.%I ALTER COLUMN run_id SET DEFAULT %s, '
                   'ADD CONSTRAINT night_run CHECK (run_id = %s)', v_name, p_run, p_run);
    IF p_table = 'list_rows' THEN
        EXECUTE format('ALTER TABLE canbao.%I ENABLE ROW LEVEL SECURITY', v_name);
    END IF;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON canbao.%I TO canbao_engine', v_name);
    EXECUTE format('GRANT SELECT ON canbao.%I TO canbao_bureau', v_name);
END
$$;

CREATE OR REPLACE FUNCTION canbao.run_table_attach(p_table text, p_run bigint)
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
    EXECUTE format('ALTER TABLE canbao.%I ALTER COLUMN run_id DROP DEFAULT, '
                   'DROP CONSTRAINT night_run', v_name);
    EXECUTE format('ANALYZE canbao.%I', v_name);
END
$$;
