-- canbao 018: run numbers go on from the releases already in the output folder.
--
-- A release is named <as-of date>_run<run id>, and the engine compares run ids to tell the
-- newest release (which to keep when pruning, whether a stored run that was not published is
-- newer than the one that is out).  A database made anew (restored from an older backup, moved
-- to another server, a test cluster) numbers its runs from where its sequence stands, below the
-- releases of the output folder: a rerun of a night could take the name of an older database's
-- release and fail to publish after its commit, and pruning took the new releases for the oldest.
-- Before its ledger row, the engine now gives this function the highest run id it finds among
-- the output folder's releases; the sequence is moved past it (never back).

CREATE FUNCTION canbao.runs_continue_after(p_seen bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_last bigint;
BEGIN
    -- one run at a time (the engine holds the run lock): no other nextval between these two
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END INTO STRICT v_last
      FROM canbao.runs_run_id_seq s;
    v_last := greatest(v_last, coalesce((SELECT max(r.run_id) FROM canbao.runs r), 0));
    IF p_seen IS NULL OR p_seen <= v_last THEN
        RETURN NULL;
    END IF;
    PERFORM setval('canbao.runs_run_id_seq', p_seen);
    RETURN p_seen + 1;
END
$$;
REVOKE EXECUTE ON FUNCTION canbao.runs_continue_after(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canbao.runs_continue_after(bigint) TO canbao_engine;
