-- canbao 016: lifecycle_prepare joins the night's rows by hash and returns them unsorted (issue 8).
--
-- The township workbooks wait for lifecycle_prepare (they show each row's item, its state and the
-- township's last answer), so its time is on the critical path of a night.  At S (143,000 rows)
-- it took 1.6 s; by EXPLAIN ANALYZE most of that was not the work:
--   - the township's last answer was looked up row by row (LATERAL ... LIMIT 1: an index probe
--     of feedback for every row, 0.43 s even with no feedback at all);
--   - the rows came back sorted by seq, which the engine does not need (it files each row by its
--     seq), a sort that with the default work_mem went to disk (external merge, 0.15-0.3 s);
--   - the hash joins with list_items ran in four batches for want of work_mem.
-- Now the last answer of every item that has one is taken in one pass (DISTINCT ON, ordered as
-- the index feedback_item reads backwards) and joined by hash, the rows come back in the join's
-- order; the engine's sessions have work_mem of at least 64 MB (engine/db.c), and it analyses
-- pg_temp.lc_rows with statistics target 10.  The numbers given to new items do not change:
-- they are still registered in seq order.

CREATE OR REPLACE FUNCTION canbao.lifecycle_prepare(p_asof date)
RETURNS TABLE (o_seq integer, o_item_id bigint, o_state text, o_is_new boolean, o_first_asof date,
               o_in_alerts boolean, o_alert text, o_outcome text, o_outcome_date date, o_note text)
LANGUAGE plpgsql AS $$
BEGIN
    ANALYZE pg_temp.lc_rows;
    INSERT INTO canbao.list_items (list_name, id_number, cause)
    SELECT r.list_name, r.id_number, r.cause
      FROM pg_temp.lc_rows r
     WHERE NOT EXISTS (SELECT 1 FROM canbao.list_items i
                        WHERE i.list_name = r.list_name AND i.id_number = r.id_number
                          AND i.cause = r.cause)
     ORDER BY r.seq
    ON CONFLICT DO NOTHING;

    RETURN QUERY
    SELECT r.seq, i.item_id, i.state,
           (i.state IS NULL OR i.state = 'resolved' OR i.opened_asof >= p_asof),
           coalesce(i.first_asof, p_asof),
           (i.state IS NULL OR i.state IN ('new', 'sent', 'resolved')
            OR (i.sent_class IS NOT NULL AND r.class IS DISTINCT FROM i.sent_class)),
           CASE WHEN i.first_sent_run IS NULL THEN 'new'
                WHEN r.class IS DISTINCT FROM i.sent_class THEN 'changed'
                ELSE 'repeated' END,
           f.outcome, f.outcome_date, f.note
      FROM pg_temp.lc_rows r
      JOIN canbao.list_items i
        ON i.list_name = r.list_name AND i.id_number = r.id_number AND i.cause = r.cause
      LEFT JOIN (SELECT DISTINCT ON (fb.item_id) fb.item_id, fb.outcome, fb.outcome_date, fb.note
                   FROM canbao.feedback fb
                  ORDER BY fb.item_id DESC, fb.feedback_id DESC) f ON f.item_id = i.item_id;
END
$$;
