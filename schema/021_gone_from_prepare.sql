-- canbao 021: the items a night no longer lists found by the preparation (issue 8).
--
-- lifecycle_apply (013) found the open items of the night's lists that the night did not list
-- with an anti-join of list_items and the night's run_items: both read whole, 1.4 million rows
-- each at M, 1.8 s of the run's transaction on a night after the first.  The preparation
-- already reads the whole of list_items, on a connection of its own while the run's
-- transaction stores the rows: it joined them with a copy of the night's rows (020).  Now the
-- engine reads the items of the night's lists with their latest answers (1.1 s at M, where
-- copying the rows in and joining took 3.5-4 s) and matches them to its rows itself; an item
-- that no row is about and is still open is one the night no longer lists.  The engine passes
-- their ids to lifecycle_apply, which resolves those still open.
--
-- Why that is exact: the preparation commits before the run's transaction takes the items, and
-- in between no item can become open without a run (runs are one at a time: db_lock_run).  A
-- township's or the pension system's answer moves an item to acknowledged (from new or sent,
-- open both) or to dismissed (not open).  So the items open and not listed when
-- lifecycle_apply runs are among those the preparation found; each is checked again here (still
-- open, of the night's lists, not among the night's items) before it is resolved.
--
-- For the same reason an item listed again (its state NULL or resolved) is one whose row the
-- preparation marked new (run_items.status): the join that finds them keeps to the night's new
-- rows.  The function no longer turns nested loops and merge joins off: run_table_attach has
-- analysed the night's run_items, so the planner knows how many rows are new (on a night after
-- the first at M it reads the items NULL or resolved and looks each up in the night's items by
-- key: 0.45 + 0.25 s for the events and the update).  The counts of new and open rows come
-- from the same reading of run_items as the per-list counts.

CREATE FUNCTION canbao.lifecycle_apply(p_run bigint, p_lists text[], p_gone bigint[])
RETURNS TABLE (new_items bigint, open_items bigint, gone_items bigint)
LANGUAGE plpgsql
-- it ANALYZEs tables only their owner may (005, 011)
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
     WHERE r.run_id = p_run AND r.status = 'new' AND (i.state IS NULL OR i.state = 'resolved')
     ORDER BY i.item_id;

    -- listed (again): new, since tonight; an item listed and left in its state is not written
    UPDATE canbao.list_items i
       SET state = 'new', opened_asof = v_asof, first_asof = coalesce(i.first_asof, v_asof),
           resolved_by = NULL, resolved_asof = NULL, resolved_run = NULL
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.status = 'new' AND r.item_id = i.item_id
       AND (i.state IS NULL OR i.state = 'resolved');

    -- open items of these lists that this run did not list: resolved by the data
    CREATE TEMP TABLE lc_gone ON COMMIT DROP AS
    SELECT i.item_id, i.state
      FROM canbao.list_items i
     WHERE i.item_id = ANY (p_gone)
       AND i.list_name = ANY (p_lists) AND i.state IN ('new', 'sent', 'acknowledged')
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

    -- rows per list from the list rows; new and open rows from the run's items, read once
    DELETE FROM canbao.run_list_counts c WHERE c.run_id = p_run;
    CREATE TEMP TABLE lc_counts ON COMMIT DROP AS
    SELECT r.list_name, count(*) FILTER (WHERE r.status = 'new') AS n_new,
           count(*) FILTER (WHERE r.status = 'open') AS n_open
      FROM canbao.run_items r WHERE r.run_id = p_run GROUP BY r.list_name;
    SELECT coalesce(sum(c.n_new), 0), coalesce(sum(c.n_open), 0) INTO v_new, v_open FROM lc_counts c;
    INSERT INTO canbao.run_list_counts (run_id, list_name, rows, new_rows)
    SELECT p_run, n, coalesce(lr.c, 0), coalesce(ri.n_new, 0)
      FROM unnest(p_lists) n
      LEFT JOIN (SELECT l.list_name, count(*) AS c FROM canbao.list_rows l
                  WHERE l.run_id = p_run GROUP BY l.list_name) lr ON lr.list_name = n
      LEFT JOIN lc_counts ri ON ri.list_name = n;
    DROP TABLE lc_counts;

    RETURN QUERY SELECT v_new, v_open, v_gone;
END
$$;
REVOKE EXECUTE ON FUNCTION canbao.lifecycle_apply(bigint, text[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canbao.lifecycle_apply(bigint, text[], bigint[]) TO canbao_engine;

DROP FUNCTION canbao.lifecycle_apply(bigint, text[]);
