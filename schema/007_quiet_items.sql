-- canbao 007: a night writes only the items whose state changes (issue 8).
--
-- lifecycle_apply marked every item a run listed with the run (list_items.last_run and
-- last_asof), so that the items no longer listed could be found as those not marked.  That was
-- one UPDATE of every listed item every night: at Yanji's scale 143,000 new row versions a night
-- (0.8 s of the run's 4 s in PostgreSQL) for items that mostly did not change, at a province's
-- tens of millions.  The run's own items (run_items) already say which items it listed, so the
-- items no longer listed are found by an anti-join with them, and the UPDATE keeps to the items
-- that are listed anew (new, or listed again after they were resolved).  Which runs listed an
-- item, and so the last one, stays in run_items (indexed by item).

ALTER TABLE canbao.list_items DROP COLUMN last_run, DROP COLUMN last_asof;

CREATE OR REPLACE FUNCTION canbao.lifecycle_apply(p_run bigint, p_lists text[])
RETURNS TABLE (new_items bigint, open_items bigint, gone_items bigint)
LANGUAGE plpgsql
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
    ANALYZE canbao.run_items;
    ANALYZE canbao.list_items;

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
