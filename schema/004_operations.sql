-- canbao 004: nightly operations — a run's ledger row says where and whether its files were
-- published, which sources it read and how old they were, and what became of it when it did
-- not finish.  engine/run.c; README "Operations".
--
-- States of a run:
--   running      the run is going on (or its process died: the next run finds out)
--   succeeded    stored in one transaction; published_at says when its files went out
--                (NULL: committed, not yet published — the next run completes or supersedes it)
--   failed       stopped with an error (message says why); nothing of it is visible
--   cancelled    stopped by SIGTERM / SIGINT at a safe point; nothing of it is visible
--   interrupted  its process ended without a word (killed, crashed, lost its database); the next
--                run that takes the run lock marks it so
--   superseded   a later run of the same as-of date succeeded (superseded_by); its rows stay for
--                the audit, the lists' lifecycle states carry over (they belong to the items)

ALTER TABLE canbao.runs DROP CONSTRAINT runs_state_check;
ALTER TABLE canbao.runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'superseded'));

ALTER TABLE canbao.runs
    ADD COLUMN out_dir        text,          -- the output folder (--out), absolute
    ADD COLUMN release        text,          -- the run's release folder in <out_dir>.releases/
    ADD COLUMN published_at   timestamptz,   -- when the output folder switched to the release
    ADD COLUMN superseded_by  bigint REFERENCES canbao.runs ON DELETE SET NULL,
    ADD COLUMN sources        jsonb,         -- per source: delivered / last_good / missing / stopped
    ADD COLUMN incomplete     text;          -- NULL, or why the death lists are incomplete

-- Runs from before this migration: their files went out when they finished.
UPDATE canbao.runs SET published_at = finished_at WHERE state = 'succeeded';

-- One succeeded run per night: the earlier ones of a night are superseded.
UPDATE canbao.runs r
   SET state = 'superseded',
       superseded_by = (SELECT max(n.run_id) FROM canbao.runs n
                         WHERE n.asof = r.asof AND n.state = 'succeeded')
 WHERE r.state = 'succeeded'
   AND r.run_id < (SELECT max(n.run_id) FROM canbao.runs n WHERE n.asof = r.asof AND n.state = 'succeeded');
CREATE UNIQUE INDEX runs_one_succeeded_per_night ON canbao.runs (asof) WHERE state = 'succeeded';

-- Called by a run that has just taken the run lock: a row still 'running' belongs to a process
-- that died (the lock is released with its session), so it is marked interrupted.
CREATE FUNCTION canbao.runs_mark_interrupted()
RETURNS TABLE (run_id bigint, asof date, started_at timestamptz)
LANGUAGE sql AS $$
    UPDATE canbao.runs r
       SET state = 'interrupted', finished_at = now(),
           message = 'interrupted: the process ended without finishing (killed, crashed or cut off '
                     || 'from the database); nothing of it was published'
                     || coalesce('; last message: ' || r.message, '')
     WHERE r.state = 'running'
    RETURNING r.run_id, r.asof, r.started_at
$$;

-- In the run's transaction, just before it is marked succeeded: the earlier succeeded run of
-- the same night (at most one) becomes superseded.  Returns its id, or NULL.
CREATE FUNCTION canbao.run_supersede(p_run bigint)
RETURNS bigint
LANGUAGE sql AS $$
    UPDATE canbao.runs r
       SET state = 'superseded', superseded_by = p_run
     WHERE r.state = 'succeeded' AND r.run_id <> p_run
       AND r.asof = (SELECT x.asof FROM canbao.runs x WHERE x.run_id = p_run)
    RETURNING r.run_id
$$;

-- After the output folder switched to the run's release: the run is published and what its
-- files carried is sent (lifecycle_mark_sent), in one transaction.  Doing it twice changes
-- nothing: returns NULL when the run was already marked published.
CREATE FUNCTION canbao.run_published(p_run bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE canbao.runs SET published_at = now()
     WHERE run_id = p_run AND state = 'succeeded' AND published_at IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN canbao.lifecycle_mark_sent(p_run);
END
$$;
