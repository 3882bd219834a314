-- canbao 010: a run's rows are checked by their numbers first (issue 8).
--
-- run_check (006) looked up every evidence row and every run item in the run's list rows, and
-- every evidence row's file in its files: hash joins over all of a night's rows, about a tenth
-- of the database's time in a night.  The engine numbers a list's rows 1..n and a run's files
-- 0..m-1, and the primary keys make the numbers unique; so when each list's row numbers are
-- exactly 1..n (count, least and greatest agree) and the files' 0..m-1, a reference points at
-- a row or a file exactly when its number lies in the range.  That is one pass over each table
-- with a count, a least and a greatest per list.  Whether a run item's item exists is still
-- looked up.  When any of this fails, the search of 006 (now canbao.run_check_search) runs and
-- names the first dangling reference, as before.
--
-- The numbers are checked without 006's planner settings: they are aggregates and joins of a
-- row per list, and an item is looked up by its primary key (lifecycle_apply has just analysed
-- both tables).  With hash joins forced, the aggregates took longer than 006's search.

-- 006's search for the first dangling reference of run p_run's rows, which raises an error
-- naming it, keeps its body and planner settings under a name of its own.
ALTER FUNCTION canbao.run_check(bigint) RENAME TO run_check_search;

-- True when every reference of run p_run's rows lies in the range of its list's rows or of the
-- run's files, and every list's rows (the run's files) are numbered 1..n (0..m-1).
CREATE FUNCTION canbao.run_numbers_hold(p_run bigint)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH lr AS (SELECT l.list_name, count(*) AS n, min(l.row_no) AS lo, max(l.row_no) AS hi
                  FROM canbao.list_rows l WHERE l.run_id = p_run GROUP BY l.list_name),
         sf AS (SELECT count(*) AS n, min(f.file_no) AS lo, max(f.file_no) AS hi
                  FROM canbao.source_files f WHERE f.run_id = p_run),
         ev AS (SELECT e.list_name, min(e.row_no) AS lo, max(e.row_no) AS hi,
                       min(e.file_no) AS flo, max(e.file_no) AS fhi
                  FROM canbao.list_evidence e WHERE e.run_id = p_run GROUP BY e.list_name),
         ri AS (SELECT r.list_name, min(r.row_no) AS lo, max(r.row_no) AS hi
                  FROM canbao.run_items r WHERE r.run_id = p_run GROUP BY r.list_name)
    SELECT (NOT EXISTS (SELECT 1 FROM lr) OR EXISTS (SELECT 1 FROM canbao.runs r WHERE r.run_id = p_run))
       AND NOT EXISTS (SELECT 1 FROM lr WHERE (lr.lo = 1 AND lr.hi = lr.n) IS NOT TRUE)
       AND NOT EXISTS (SELECT 1 FROM ev LEFT JOIN lr USING (list_name) CROSS JOIN sf
                        WHERE (ev.lo >= 1 AND ev.hi <= lr.n AND sf.lo = 0 AND sf.hi = sf.n - 1
                               AND ev.flo >= 0 AND ev.fhi <= sf.hi) IS NOT TRUE)
       AND NOT EXISTS (SELECT 1 FROM ri LEFT JOIN lr USING (list_name)
                        WHERE (ri.lo >= 1 AND ri.hi <= lr.n) IS NOT TRUE)
$$;

CREATE FUNCTION canbao.run_check(p_run bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF canbao.run_numbers_hold(p_run)
       AND NOT EXISTS (SELECT 1 FROM canbao.run_items ri
                        WHERE ri.run_id = p_run
                          AND NOT EXISTS (SELECT 1 FROM canbao.list_items i WHERE i.item_id = ri.item_id)) THEN
        RETURN;
    END IF;
    PERFORM canbao.run_check_search(p_run);
END
$$;
