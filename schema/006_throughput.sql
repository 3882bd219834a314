-- canbao 006: the night's writes in bulk (issue 8).  A run stores a few hundred thousand rows
-- at Yanji's scale (list rows, their evidence, the items a run lists) and tens of millions at a
-- province's; checking them one row at a time cost more than writing them.
--
-- 1. The per-row foreign keys of the per-run tables (list_rows -> runs, list_evidence ->
--    list_rows and source_files, run_items -> list_rows and list_items) are replaced by one
--    set-wise check per run, canbao.run_check, which the engine calls in the run's transaction
--    before it commits: the same guarantee (a run whose rows point nowhere does not commit), in
--    a few hash joins instead of one index probe per row.  Deleting a run (retention) goes
--    through canbao.run_delete, which removes what the cascades used to.
-- 2. lifecycle_apply moves the items in one pass: the engine stores each run item's status
--    (new / open, as lifecycle_prepare told it and the workbooks show it) with the row, and
--    the listing, the reopening and the run's mark on the item are one UPDATE.
-- 3. list_items leaves room on its pages (fillfactor) so that the nightly updates of the
--    same items (last run, last sent) stay on their page without new index entries (HOT).

ALTER TABLE canbao.list_rows DROP CONSTRAINT list_rows_run_id_fkey;
ALTER TABLE canbao.list_evidence DROP CONSTRAINT list_evidence_run_id_list_name_row_no_fkey,
                                 DROP CONSTRAINT list_evidence_run_id_file_no_fkey;
ALTER TABLE canbao.run_items DROP CONSTRAINT run_items_run_id_list_name_row_no_fkey,
                             DROP CONSTRAINT run_items_item_id_fkey;
ALTER TABLE canbao.list_items SET (fillfactor = 70);

-- Raises an error naming the first dangling reference of run p_run's rows, if any.
-- Hash joins whatever the statistics say: the run's rows were copied in just now, and a plan
-- made for "a few rows" (a nested loop over them) would take hours at a city's scale.
CREATE FUNCTION canbao.run_check(p_run bigint)
RETURNS void
LANGUAGE plpgsql
SET enable_nestloop = off
SET enable_mergejoin = off AS $$
DECLARE
    v_what text;
BEGIN
    SELECT w INTO v_what FROM (
        SELECT 'list row ' || l.list_name || ' ' || l.row_no || ': no such run' AS w
          FROM canbao.list_rows l
         WHERE l.run_id = p_run AND NOT EXISTS (SELECT 1 FROM canbao.runs r WHERE r.run_id = p_run)
        UNION ALL
        SELECT 'evidence of ' || e.list_name || ' row ' || e.row_no || ': no such list row'
          FROM canbao.list_evidence e
         WHERE e.run_id = p_run
           AND NOT EXISTS (SELECT 1 FROM canbao.list_rows l
                            WHERE l.run_id = p_run AND l.list_name = e.list_name AND l.row_no = e.row_no)
        UNION ALL
        SELECT 'evidence of ' || e.list_name || ' row ' || e.row_no || ': no such file ' || e.file_no
          FROM canbao.list_evidence e
         WHERE e.run_id = p_run
           AND NOT EXISTS (SELECT 1 FROM canbao.source_files f WHERE f.run_id = p_run AND f.file_no = e.file_no)
        UNION ALL
        SELECT 'run item of ' || ri.list_name || ' row ' || ri.row_no || ': no such list row'
          FROM canbao.run_items ri
         WHERE ri.run_id = p_run
           AND NOT EXISTS (SELECT 1 FROM canbao.list_rows l
                            WHERE l.run_id = p_run AND l.list_name = ri.list_name AND l.row_no = ri.row_no)
        UNION ALL
        SELECT 'run item of ' || ri.list_name || ' row ' || ri.row_no || ': no such item ' || ri.item_id
          FROM canbao.run_items ri
         WHERE ri.run_id = p_run
           AND NOT EXISTS (SELECT 1 FROM canbao.list_items i WHERE i.item_id = ri.item_id)
    ) dangling LIMIT 1;
    IF v_what IS NOT NULL THEN
        RAISE EXCEPTION 'run %: %', p_run, v_what;
    END IF;
END
$$;

-- Deletes a run and everything it stored (what ON DELETE CASCADE did before this migration).
-- The items it listed stay: they belong to the lifecycle, not to one run.
CREATE FUNCTION canbao.run_delete(p_run bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM canbao.run_items WHERE run_id = p_run;
    DELETE FROM canbao.list_evidence WHERE run_id = p_run;
    DELETE FROM canbao.list_rows WHERE run_id = p_run;
    DELETE FROM canbao.runs WHERE run_id = p_run;
END
$$;

CREATE OR REPLACE FUNCTION canbao.lifecycle_apply(p_run bigint, p_lists text[])
RETURNS TABLE (new_items bigint, open_items bigint, gone_items bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_asof date;
    v_new bigint;
    v_open bigint;
    v_gone bigint;
BEGIN
    SELECT r.asof INTO STRICT v_asof FROM canbao.runs r WHERE r.run_id = p_run;
    -- the run's items were copied in just now: without fresh statistics the planner takes them
    -- for a few rows and joins them row by row
    ANALYZE canbao.run_items;
    ANALYZE canbao.list_items;

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, p_run, i.state, 'new', 'run',
           CASE WHEN i.state IS NULL THEN 'listed' ELSE 'listed again' END
      FROM canbao.run_items r JOIN canbao.list_items i ON i.item_id = r.item_id
     WHERE r.run_id = p_run AND (i.state IS NULL OR i.state = 'resolved')
     ORDER BY i.item_id;

    -- listed (again): new; every listed item: this run's (the right-hand sides see the old row)
    UPDATE canbao.list_items i
       SET state         = CASE WHEN i.state IS NULL OR i.state = 'resolved' THEN 'new' ELSE i.state END,
           opened_asof   = CASE WHEN i.state IS NULL OR i.state = 'resolved' THEN v_asof ELSE i.opened_asof END,
           first_asof    = coalesce(i.first_asof, v_asof),
           resolved_by   = CASE WHEN i.state = 'resolved' THEN NULL ELSE i.resolved_by END,
           resolved_asof = CASE WHEN i.state = 'resolved' THEN NULL ELSE i.resolved_asof END,
           resolved_run  = CASE WHEN i.state = 'resolved' THEN NULL ELSE i.resolved_run END,
           last_run = p_run, last_asof = v_asof
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.item_id = i.item_id;

    SELECT count(*) FILTER (WHERE r.status = 'new'), count(*) FILTER (WHERE r.status = 'open')
      INTO v_new, v_open
      FROM canbao.run_items r WHERE r.run_id = p_run;

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, p_run, i.state, 'resolved', 'run', 'no longer listed'
      FROM canbao.list_items i
     WHERE i.list_name = ANY (p_lists) AND i.state IN ('new', 'sent', 'acknowledged')
       AND i.last_run IS DISTINCT FROM p_run
     ORDER BY i.item_id;

    UPDATE canbao.list_items i
       SET state = 'resolved', resolved_by = 'data', resolved_asof = v_asof, resolved_run = p_run
     WHERE i.list_name = ANY (p_lists) AND i.state IN ('new', 'sent', 'acknowledged')
       AND i.last_run IS DISTINCT FROM p_run;
    GET DIAGNOSTICS v_gone = ROW_COUNT;

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

-- Step 3 (003): only the items whose state, first or last night sent, or class change are
-- written; the night run again (a rerun) rewrites nothing.  Returns how many changed.
CREATE OR REPLACE FUNCTION canbao.lifecycle_mark_sent(p_run bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_asof date;
    v_n bigint;
BEGIN
    SELECT r.asof INTO STRICT v_asof FROM canbao.runs r WHERE r.run_id = p_run AND r.state = 'succeeded';

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, p_run, i.state, 'sent', 'run',
           CASE WHEN i.state = 'new' THEN 'published' ELSE 'published again: now ' || r.class END
      FROM canbao.run_items r JOIN canbao.list_items i ON i.item_id = r.item_id
     WHERE r.run_id = p_run
       AND (i.state = 'new'
            OR (i.state IN ('acknowledged', 'dismissed') AND i.sent_class IS NOT NULL
                AND r.class IS DISTINCT FROM i.sent_class))
     ORDER BY i.item_id;

    UPDATE canbao.list_items i
       SET state = u.to_state, first_sent_run = coalesce(i.first_sent_run, p_run),
           sent_asof = v_asof, sent_class = u.to_class
      FROM (SELECT r.item_id,
                   CASE WHEN j.state = 'new'
                          OR (j.state IN ('acknowledged', 'dismissed') AND j.sent_class IS NOT NULL
                              AND r.class IS DISTINCT FROM j.sent_class)
                        THEN 'sent' ELSE j.state END AS to_state,
                   coalesce(r.class, j.sent_class) AS to_class
              FROM canbao.run_items r JOIN canbao.list_items j ON j.item_id = r.item_id
             WHERE r.run_id = p_run AND j.state IN ('new', 'sent', 'acknowledged', 'dismissed')) u
     WHERE i.item_id = u.item_id
       AND (u.to_state IS DISTINCT FROM i.state OR i.first_sent_run IS NULL
            OR i.sent_asof IS DISTINCT FROM v_asof OR u.to_class IS DISTINCT FROM i.sent_class);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$$;
