-- canbao 023: a night's evidence and items with fewer index builds (issue 8).
--
-- Attaching a night's tables builds their indexes (015), in the run's transaction, one after
-- the other.  At M a night has 2.5 million evidence rows and 1.4 million run items:
--   - list_evidence_row, a b-tree on (run_id, list_name, row_no), took 1.5-2.0 s to build.
--     The evidence is copied in the order of its rows (list by list, row by row, each list's
--     rows together), so a block range index on the same columns finds a row's evidence as
--     well (a few ranges of 32 pages) and is built in one pass over the table, 0.7 s.  Nothing
--     in the engine reads the evidence by row; an auditor's query does, and stays quick.
--   - run_items had a primary key on (run_id, item_id) and an index on item_id: two b-trees
--     over the same item ids, since a night's table holds one run.  The primary key is now
--     (item_id, run_id), which serves both, and run_items_item is dropped (0.7-0.9 s a night).
-- The existing nights' indexes are made again here, once.

DROP INDEX canbao.list_evidence_row;
CREATE INDEX list_evidence_row ON canbao.list_evidence USING brin (run_id, list_name, row_no)
    WITH (pages_per_range = 32);

ALTER TABLE canbao.run_items DROP CONSTRAINT run_items_pkey;
ALTER TABLE canbao.run_items ADD PRIMARY KEY (item_id, run_id);
DROP INDEX canbao.run_items_item;
