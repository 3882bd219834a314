-- canbao 008: publishing writes only the items it sends news of (issue 8).
--
-- lifecycle_mark_sent set list_items.sent_asof to the night on every item a published run
-- carried, so that each new night (a new as-of date) wrote every open item again: at a
-- province's scale millions of new row versions a night for items whose state did not change.
-- A rerun of the same night wrote nothing, which is why the benchmark, which reruns one night,
-- did not see it.  sent_asof is now the night whose files last brought news of the item: first
-- sent, sent again because its alert class changed, or its class changed while sent.  Which
-- published runs carried an item stays in run_items with runs.published_at.

COMMENT ON COLUMN canbao.list_items.sent_asof IS
    'the night whose published files last brought news of the item: first sent, sent again, or its class changed';

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

    -- only the items whose state or class changes, or that were never marked sent
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
            OR u.to_class IS DISTINCT FROM i.sent_class);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$$;
