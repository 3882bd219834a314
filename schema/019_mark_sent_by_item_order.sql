-- canbao 019: publishing marks the items sent by walking both tables in item order (issue 8).
--
-- After the files are out, lifecycle_mark_sent updates the items whose state or alert class
-- changes (008, 012).  Its UPDATE joins the run's items with list_items to find them: every
-- item of the night (1.4 million at M), of which most nights change a few.  PostgreSQL hashed
-- list_items (106 MB at M) for it, on the one core the publishing stage uses.  Both sides are
-- already in item order: the night's run_items has an index on item_id, and list_items is
-- numbered as it is filled, so its heap is in item order too.  A merge join over the two
-- indexes reads them once without building the hash: at M 1.1-1.2 s against 2.0-2.6 s for the
-- UPDATE alone by EXPLAIN ANALYZE, and 1.34-1.55 s against 1.72-1.82 s for the whole function
-- (three alternating calls each, the same transaction rolled back).  The planner prices the
-- index scans as if they jumped about the heap, so the function asks for no hash join.  Its
-- INSERT of the sent events keeps its plan (the new items found first, then their run row by
-- the index).

ALTER FUNCTION canbao.lifecycle_mark_sent(bigint) SET enable_hashjoin = off;
