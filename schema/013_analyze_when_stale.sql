-- canbao 013: a night ANALYZEs the tables it filled only when autovacuum would (issue 8).
--
-- lifecycle_apply ANALYZEd run_items and list_items every night, inside the run's transaction:
-- about a third of the function's time at S (two samples of 30,000 rows, whatever the night
-- changed).  It is there for the first nights, when a table's statistics say it is empty or a
-- tenth of its size and the plans after it (run_check, the publication, the next night's
-- preparation) would be made for a few rows.  Once a night's rows are a small part of a table,
-- its statistics from an earlier night describe it as well, and autovacuum keeps them fresh
-- after the commit by its own rule: changes since the last ANALYZE above
-- autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x the table's rows (50 + 10 %
-- by default).  analyze_if_stale applies that rule at once, counting the run's own changes so
-- far (pg_stat_xact_user_tables, not yet in the shared statistics) as well: a table never
-- analysed (reltuples < 0), or changed by a tenth, is analysed in the transaction as before.

CREATE FUNCTION canbao.analyze_if_stale(p_table regclass)
RETURNS boolean
LANGUAGE plpgsql
-- called by lifecycle_apply, so as the tables' owner
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_tuples float8;
    v_changed float8;
BEGIN
    SELECT c.reltuples,
           coalesce((SELECT x.n_tup_ins + x.n_tup_upd + x.n_tup_del
                       FROM pg_stat_xact_user_tables x WHERE x.relid = c.oid), 0)
           + coalesce((SELECT s.n_mod_since_analyze FROM pg_stat_user_tables s WHERE s.relid = c.oid), 0)
      INTO STRICT v_tuples, v_changed
      FROM pg_class c WHERE c.oid = p_table;
    IF v_tuples >= 0 AND v_changed <= current_setting('autovacuum_analyze_threshold')::float8
                                       + current_setting('autovacuum_analyze_scale_factor')::float8 * v_tuples THEN
        RETURN false;
    END IF;
    EXECUTE format('ANALYZE %s', p_table);
    RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION canbao.analyze_if_stale(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION canbao.lifecycle_apply(p_run bigint, p_lists text[])
RETURNS TABLE (new_items bigint, open_items bigint, gone_items bigint)
LANGUAGE plpgsql
-- it ANALYZEs tables only their owner may (005, 011)
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- the run's items were copied in just now: joins over them are hash joins whatever the
-- statistics say (a plan made for "a few rows" would probe them row by row)
SET enable_nestloop = off
SET enable_mergejoin = off AS $$
DECLARE
    v_asof date;
    v_new bigint;
    v_open bigint;
    v_gone bigint;
BEGIN
    SELECT r.asof INTO STRICT v_asof FROM canbao.runs r WHERE r.run_id = p_run;
    PERFORM canbao.analyze_if_stale('canbao.run_items'::regclass);
    PERFORM canbao.analyze_if_stale('canbao.list_items'::regclass);

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, p_run, i.state, 'new', 'run',
           CASE WHEN i.state IS NULL THEN 'listed' ELSE 'listed again' END
      FROM canbao.run_items r JOIN canbao.list_items i ON i.item_id = r.item_id
     WHERE r.run_id = p_run AND (i.state IS NULL OR i.state = 'resolved')
     ORDER BY i.item_id;

    -- listed (again): new, since tonight; an item listed and left in its state is not written
    UPDATE canbao.list_items i
       SET state = 'new', opened_asof = v_asof, first_asof = coalesce(i.first_asof, v_asof),
           resolved_by = NULL, resolved_asof = NULL, resolved_run = NULL
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.item_id = i.item_id
       AND (i.state IS NULL OR i.state = 'resolved');

    SELECT count(*) FILTER (WHERE r.status = 'new'), count(*) FILTER (WHERE r.status = 'open')
      INTO v_new, v_open
      FROM canbao.run_items r WHERE r.run_id = p_run;

    -- open items of these lists that this run did not list: resolved by the data
    CREATE TEMP TABLE lc_gone ON COMMIT DROP AS
    SELECT i.item_id, i.state
      FROM canbao.list_items i
     WHERE i.list_name = ANY (p_lists) AND i.state IN ('new', 'sent', 'acknowledged')
       AND NOT EXISTS (SELECT 1 FROM canbao.run_items r WHERE r.run_id = p_run AND r.item_id = i.item_id);

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT g.item_id, p_run, g.state, 'resolved', 'run', 'no longer listed'
      FROM lc_gone g
     ORDER BY g.item_id;

    UPDATE canbao.list_items i
       SET state = 'resolved', resolved_by = 'data', resolved_asof = v_asof, resolved_run = p_run
      FROM lc_gone g
     WHERE i.item_id = g.item_id;
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    DROP TABLE lc_gone;

    -- rows per list from the list rows, new rows from the run's items: two scans, no join
    DELETE FROM canbao.run_list_counts c WHERE c.run_id = p_run;
    INSERT INTO canbao.run_list_counts (run_id, list_name, rows, new_rows)
    SELECT p_run, n, coalesce(lr.c, 0), coalesce(ri.c, 0)
      FROM unnest(p_lists) n
      LEFT JOIN (SELECT l.list_name, count(*) AS c FROM canbao.list_rows l
                  WHERE l.run_id = p_run GROUP BY l.list_name) lr ON lr.list_name = n
      LEFT JOIN (SELECT r.list_name, count(*) AS c FROM canbao.run_items r
                  WHERE r.run_id = p_run AND r.status = 'new' GROUP BY r.list_name) ri ON ri.list_name = n;

    RETURN QUERY SELECT v_new, v_open, v_gone;
END
$$;
