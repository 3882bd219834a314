-- canbao 022: a night's items looked up in list_items by a merge of the two indexes (issue 8).
--
-- run_check (010) asks whether every item of the night's run_items exists in list_items.  The
-- planner answered with a hash anti-join: list_items' 1.4 million item ids (at M) read into a
-- hash table, then the night's items probed in it, 1.5-1.7 s.  Both are already in item order in
-- an index (run_items' primary key is (run_id, item_id), list_items' is item_id), and a merge
-- of the two index-only scans answers the same in 0.6 s.  The question is asked by a function
-- of its own that turns hash joins off for itself alone: the rest of run_check (aggregates) and
-- the search that names a dangling reference when the check fails keep their plans.

CREATE FUNCTION canbao.run_items_known(p_run bigint)
RETURNS boolean
-- PL/pgSQL: planned with the night's number, so that its partition alone is read (015)
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off AS $$
BEGIN
    RETURN NOT EXISTS (SELECT 1 FROM canbao.run_items ri
                        WHERE ri.run_id = p_run
                          AND NOT EXISTS (SELECT 1 FROM canbao.list_items i WHERE i.item_id = ri.item_id));
END
$$;

CREATE OR REPLACE FUNCTION canbao.run_check(p_run bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF canbao.run_numbers_hold(p_run) AND canbao.run_items_known(p_run) THEN
        RETURN;
    END IF;
    PERFORM canbao.run_check_search(p_run);
END
$$;
