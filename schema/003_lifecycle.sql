-- canbao 003: the lifecycle of list rows across runs, township feedback, the pension system's
-- acknowledgements, history for the nightly report, and views for township staff.
--
-- An item is one row of a list with a stable identity across runs: (list, ID number, cause).
-- Its state:   new ──► sent ──► acknowledged ──► resolved      (or dismissed, with who and why)
--   new           listed by a run, not yet in published files
--   sent          published (workbook, alert file) at least once
--   acknowledged  the township answered (canbao feedback) or the pension system acknowledged
--                 (canbao ack); alerts are no longer sent, workbooks still show the row
--   resolved      the data no longer lists it (the person enrolled, the payment stopped ...);
--                 an item listed again later is new again
--   dismissed     a person decided the row is wrong (who, why); not sent again unless its
--                 class changes (a to-verify death becomes confirmed)
-- A NULL state means the identity was registered by a run that did not succeed: never listed.
-- The engine calls, in this order: lifecycle_prepare (before writing files), lifecycle_apply
-- (in the run's transaction), lifecycle_mark_sent (after publishing).  engine/lifecycle.h.

CREATE TABLE canbao.list_items (
    item_id          bigserial PRIMARY KEY,
    list_name        text     NOT NULL,
    id_number        char(18) NOT NULL,
    cause            text     NOT NULL DEFAULT '',
    registered_at    timestamptz NOT NULL DEFAULT now(),
    state            text CHECK (state IN ('new', 'sent', 'acknowledged', 'resolved', 'dismissed')),
    first_asof       date,            -- the night it was first listed
    opened_asof      date,            -- the night its current listing began ("new since last run")
    last_run         bigint,          -- the last run that listed it
    last_asof        date,
    first_sent_run   bigint,          -- the first run whose files carried it
    sent_asof        date,
    sent_class       text,            -- class last published (confirmed / to_verify)
    ack_source       text CHECK (ack_source IN ('township', 'pension')),
    acknowledged_at  timestamptz,
    resolved_by      text CHECK (resolved_by IN ('data')),
    resolved_asof    date,
    resolved_run     bigint,
    dismissed_by     text,
    dismissed_why    text,
    dismissed_at     timestamptz,
    UNIQUE (list_name, id_number, cause),
    CONSTRAINT dismissed_says_who_and_why
        CHECK (state IS DISTINCT FROM 'dismissed' OR (dismissed_by <> '' AND dismissed_why <> ''))
);
CREATE INDEX list_items_open ON canbao.list_items (list_name)
    WHERE state IN ('new', 'sent', 'acknowledged');
CREATE INDEX list_items_person ON canbao.list_items (id_number);

-- Which items a run listed: one row per list row about a person.
CREATE TABLE canbao.run_items (
    run_id     bigint  NOT NULL,
    list_name  text    NOT NULL,
    row_no     integer NOT NULL,
    item_id    bigint  NOT NULL REFERENCES canbao.list_items,
    class      text,                                -- the alert class, where the list has one
    status     text    NOT NULL DEFAULT 'open' CHECK (status IN ('new', 'open')),
    PRIMARY KEY (run_id, item_id),
    UNIQUE (run_id, list_name, row_no),
    FOREIGN KEY (run_id, list_name, row_no) REFERENCES canbao.list_rows ON DELETE CASCADE
);
CREATE INDEX run_items_item ON canbao.run_items (item_id);

-- Rows and new rows per list and run (the report's trend without scanning old list rows).
CREATE TABLE canbao.run_list_counts (
    run_id     bigint NOT NULL REFERENCES canbao.runs ON DELETE CASCADE,
    list_name  text   NOT NULL,
    rows       bigint NOT NULL,
    new_rows   bigint NOT NULL,
    PRIMARY KEY (run_id, list_name)
);

-- Every change of state, with who made it.
CREATE TABLE canbao.item_events (
    event_id    bigserial PRIMARY KEY,
    item_id     bigint NOT NULL REFERENCES canbao.list_items,
    run_id      bigint,
    at          timestamptz NOT NULL DEFAULT now(),
    from_state  text,
    to_state    text NOT NULL,
    by_whom     text NOT NULL,     -- run | township:<code> | pension:<operator> | <staff>
    why         text
);
CREATE INDEX item_events_item ON canbao.item_events (item_id, event_id);

-- Township workbooks that came back (canbao feedback), and the answers in them.
CREATE TABLE canbao.feedback_files (
    file_id         bigserial PRIMARY KEY,
    sha256          text NOT NULL UNIQUE,
    file_name       text NOT NULL,
    township        text NOT NULL,
    asof            date NOT NULL,        -- the night the workbook was made for
    run_id          bigint NOT NULL,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    rows_recorded   integer NOT NULL DEFAULT 0,
    rows_unchanged  integer NOT NULL DEFAULT 0
);

CREATE TABLE canbao.feedback (
    feedback_id   bigserial PRIMARY KEY,
    item_id       bigint  NOT NULL REFERENCES canbao.list_items,
    file_id       bigint  NOT NULL REFERENCES canbao.feedback_files,
    township      text    NOT NULL,
    sheet         text    NOT NULL,
    row_no        integer NOT NULL,       -- the sheet's row number as Excel shows it
    outcome       text    NOT NULL CHECK (outcome IN
                  ('已联系', '已参保', '拒绝', '外出务工', '已迁出', '已死亡', '信息有误')),
    outcome_date  date,
    note          text
);
CREATE INDEX feedback_item ON canbao.feedback (item_id, feedback_id);

-- Acknowledgement files of the pension system (canbao ack; format: schema/alerts_ack.md).
CREATE TABLE canbao.ack_files (
    file_id         bigserial PRIMARY KEY,
    sha256          text NOT NULL UNIQUE,
    file_name       text NOT NULL,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    rows_recorded   integer NOT NULL DEFAULT 0,
    rows_unchanged  integer NOT NULL DEFAULT 0
);

CREATE TABLE canbao.acks (
    ack_id      bigserial PRIMARY KEY,
    item_id     bigint  NOT NULL REFERENCES canbao.list_items,
    file_id     bigint  NOT NULL REFERENCES canbao.ack_files,
    line_no     integer NOT NULL,
    decision    text    NOT NULL CHECK (decision IN ('received', 'suspended', 'not_deceased')),
    decided_on  date    NOT NULL,
    operator    text    NOT NULL,
    note        text
);
CREATE INDEX acks_item ON canbao.acks (item_id, ack_id);

-- Which database role is a township's (for the views below): a member of role_name sees the
-- rows of township.  The schema's owner (the engine, the bureau) sees every township.
CREATE TABLE canbao.township_roles (
    role_name  name NOT NULL,
    township   text NOT NULL,
    PRIMARY KEY (role_name, township)
);

-- ---------------------------------------------------------------- the engine's steps

-- Step 1.  The caller fills pg_temp.lc_rows (seq, list_name, id_number, cause, class) with the
-- run's person rows; identities not yet known are registered (in seq order, so that the same
-- inputs give the same numbers), and every row comes back with what the writers need.
CREATE FUNCTION canbao.lifecycle_prepare(p_asof date)
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
      LEFT JOIN LATERAL (SELECT fb.outcome, fb.outcome_date, fb.note
                           FROM canbao.feedback fb
                          WHERE fb.item_id = i.item_id
                          ORDER BY fb.feedback_id DESC LIMIT 1) f ON true
     ORDER BY r.seq;
END
$$;

-- Step 2, in the run's transaction, after the caller COPYed the run's canbao.run_items:
-- items listed for the first time or again after they were resolved become new; every listed
-- item records the run; open items of the run's lists that the run no longer lists are
-- resolved by the data.  p_lists: every list the run produced (also the empty ones).
CREATE FUNCTION canbao.lifecycle_apply(p_run bigint, p_lists text[])
RETURNS TABLE (new_items bigint, open_items bigint, gone_items bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_asof date;
    v_new bigint;
    v_open bigint;
    v_gone bigint;
BEGIN
    SELECT r.asof INTO STRICT v_asof FROM canbao.runs r WHERE r.run_id = p_run;
    -- the run's rows were copied in just now: without fresh statistics the planner takes them
    -- for a few rows and joins them row by row (minutes instead of a second at 25,000 rows)
    ANALYZE canbao.run_items;
    ANALYZE canbao.list_rows;
    ANALYZE canbao.list_items;

    INSERT INTO canbao.item_events (item_id, run_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, p_run, i.state, 'new', 'run',
           CASE WHEN i.state IS NULL THEN 'listed' ELSE 'listed again' END
      FROM canbao.run_items r JOIN canbao.list_items i ON i.item_id = r.item_id
     WHERE r.run_id = p_run AND (i.state IS NULL OR i.state = 'resolved')
     ORDER BY i.item_id;

    UPDATE canbao.list_items i
       SET state = 'new', opened_asof = v_asof, first_asof = coalesce(i.first_asof, v_asof),
           resolved_by = NULL, resolved_asof = NULL, resolved_run = NULL
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.item_id = i.item_id
       AND (i.state IS NULL OR i.state = 'resolved');

    UPDATE canbao.list_items i
       SET last_run = p_run, last_asof = v_asof
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.item_id = i.item_id;

    UPDATE canbao.run_items r SET status = 'new'
      FROM canbao.list_items i
     WHERE r.run_id = p_run AND i.item_id = r.item_id AND i.opened_asof = v_asof;
    GET DIAGNOSTICS v_new = ROW_COUNT;
    SELECT count(*) INTO v_open FROM canbao.run_items r WHERE r.run_id = p_run AND r.status = 'open';

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

    DELETE FROM canbao.run_list_counts c WHERE c.run_id = p_run;
    INSERT INTO canbao.run_list_counts (run_id, list_name, rows, new_rows)
    SELECT p_run, l.list_name, count(*), count(*) FILTER (WHERE ri.status = 'new')
      FROM canbao.list_rows l
      LEFT JOIN canbao.run_items ri
        ON ri.run_id = l.run_id AND ri.list_name = l.list_name AND ri.row_no = l.row_no
     WHERE l.run_id = p_run
     GROUP BY l.list_name;
    INSERT INTO canbao.run_list_counts (run_id, list_name, rows, new_rows)
    SELECT p_run, n, 0, 0 FROM unnest(p_lists) n
     WHERE NOT EXISTS (SELECT 1 FROM canbao.run_list_counts c WHERE c.run_id = p_run AND c.list_name = n);

    RETURN QUERY SELECT v_new, v_open, v_gone;
END
$$;

-- Step 3, after the run's files are published: what they carried is sent.  An acknowledged or
-- dismissed alert whose class changed was published again, and is sent again.
CREATE FUNCTION canbao.lifecycle_mark_sent(p_run bigint)
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
       SET state = CASE WHEN i.state = 'new'
                          OR (i.state IN ('acknowledged', 'dismissed') AND i.sent_class IS NOT NULL
                              AND r.class IS DISTINCT FROM i.sent_class)
                        THEN 'sent' ELSE i.state END,
           first_sent_run = coalesce(i.first_sent_run, p_run),
           sent_asof = v_asof,
           sent_class = coalesce(r.class, i.sent_class)
      FROM canbao.run_items r
     WHERE r.run_id = p_run AND r.item_id = i.item_id
       AND i.state IN ('new', 'sent', 'acknowledged', 'dismissed');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$$;

-- A person of the bureau closes an item by hand (psql): who and why are required.
CREATE FUNCTION canbao.item_dismiss(p_item bigint, p_by text, p_why text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(p_by, '') = '' OR coalesce(p_why, '') = '' THEN
        RAISE EXCEPTION 'dismissing item % needs who and why', p_item;
    END IF;
    INSERT INTO canbao.item_events (item_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, i.state, 'dismissed', p_by, p_why FROM canbao.list_items i WHERE i.item_id = p_item;
    UPDATE canbao.list_items
       SET state = 'dismissed', dismissed_by = p_by, dismissed_why = p_why, dismissed_at = now()
     WHERE item_id = p_item;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no item %', p_item;
    END IF;
END
$$;

-- ---------------------------------------------------------------- feedback and acknowledgements

-- canbao feedback: the caller checked the workbook and filled pg_temp.feedback_in (item_id,
-- sheet, row_no, outcome, outcome_date, note).  An answer equal to the item's latest one is
-- not recorded again; answered items that were new or sent become acknowledged.
CREATE FUNCTION canbao.feedback_import(p_sha text, p_file text, p_township text, p_asof date,
                                       p_run bigint)
RETURNS TABLE (recorded integer, unchanged integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_file bigint;
    v_rec integer;
    v_all integer;
BEGIN
    INSERT INTO canbao.feedback_files (sha256, file_name, township, asof, run_id)
    VALUES (p_sha, p_file, p_township, p_asof, p_run) RETURNING file_id INTO v_file;

    INSERT INTO canbao.feedback (item_id, file_id, township, sheet, row_no, outcome, outcome_date, note)
    SELECT n.item_id, v_file, p_township, n.sheet, n.row_no, n.outcome, n.outcome_date, n.note
      FROM pg_temp.feedback_in n
      LEFT JOIN LATERAL (SELECT fb.outcome, fb.outcome_date, fb.note FROM canbao.feedback fb
                          WHERE fb.item_id = n.item_id ORDER BY fb.feedback_id DESC LIMIT 1) l ON true
     WHERE l.outcome IS NULL
        OR (l.outcome, l.outcome_date, l.note) IS DISTINCT FROM (n.outcome, n.outcome_date, n.note)
     ORDER BY n.sheet, n.row_no;
    GET DIAGNOSTICS v_rec = ROW_COUNT;
    SELECT count(*) INTO v_all FROM pg_temp.feedback_in;

    INSERT INTO canbao.item_events (item_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, i.state, 'acknowledged', 'township:' || p_township, n.outcome
      FROM pg_temp.feedback_in n JOIN canbao.list_items i ON i.item_id = n.item_id
     WHERE i.state IN ('new', 'sent')
     ORDER BY i.item_id;
    UPDATE canbao.list_items i
       SET state = 'acknowledged', ack_source = 'township', acknowledged_at = now()
      FROM pg_temp.feedback_in n
     WHERE i.item_id = n.item_id AND i.state IN ('new', 'sent');

    UPDATE canbao.feedback_files SET rows_recorded = v_rec, rows_unchanged = v_all - v_rec
     WHERE file_id = v_file;
    RETURN QUERY SELECT v_rec, v_all - v_rec;
END
$$;

-- canbao ack: the caller checked the file and filled pg_temp.ack_in (item_id, line_no,
-- decision, decided_on, operator, note).  received / suspended acknowledge the alert;
-- not_deceased dismisses it (operator = who, note = why).
CREATE FUNCTION canbao.ack_import(p_sha text, p_file text)
RETURNS TABLE (recorded integer, unchanged integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_file bigint;
    v_rec integer;
    v_all integer;
BEGIN
    INSERT INTO canbao.ack_files (sha256, file_name) VALUES (p_sha, p_file) RETURNING file_id INTO v_file;

    INSERT INTO canbao.acks (item_id, file_id, line_no, decision, decided_on, operator, note)
    SELECT n.item_id, v_file, n.line_no, n.decision, n.decided_on, n.operator, n.note
      FROM pg_temp.ack_in n
      LEFT JOIN LATERAL (SELECT a.decision, a.decided_on, a.operator, a.note FROM canbao.acks a
                          WHERE a.item_id = n.item_id ORDER BY a.ack_id DESC LIMIT 1) l ON true
     WHERE l.decision IS NULL
        OR (l.decision, l.decided_on, l.operator, l.note)
           IS DISTINCT FROM (n.decision, n.decided_on, n.operator, n.note)
     ORDER BY n.line_no;
    GET DIAGNOSTICS v_rec = ROW_COUNT;
    SELECT count(*) INTO v_all FROM pg_temp.ack_in;

    INSERT INTO canbao.item_events (item_id, from_state, to_state, by_whom, why)
    SELECT i.item_id, i.state,
           CASE WHEN n.decision = 'not_deceased' THEN 'dismissed' ELSE 'acknowledged' END,
           'pension:' || n.operator, n.decision || coalesce(': ' || nullif(n.note, ''), '')
      FROM pg_temp.ack_in n JOIN canbao.list_items i ON i.item_id = n.item_id
     WHERE (n.decision = 'not_deceased' AND i.state IS DISTINCT FROM 'dismissed')
        OR (n.decision <> 'not_deceased' AND i.state IN ('new', 'sent'))
     ORDER BY n.line_no;
    UPDATE canbao.list_items i
       SET state = 'acknowledged', ack_source = 'pension', acknowledged_at = now()
      FROM pg_temp.ack_in n
     WHERE i.item_id = n.item_id AND n.decision <> 'not_deceased' AND i.state IN ('new', 'sent');
    UPDATE canbao.list_items i
       SET state = 'dismissed', dismissed_by = 'pension:' || n.operator,
           dismissed_why = coalesce(nullif(n.note, ''), 'not deceased'), dismissed_at = now()
      FROM pg_temp.ack_in n
     WHERE i.item_id = n.item_id AND n.decision = 'not_deceased'
       AND i.state IS DISTINCT FROM 'dismissed';

    UPDATE canbao.ack_files SET rows_recorded = v_rec, rows_unchanged = v_all - v_rec
     WHERE file_id = v_file;
    RETURN QUERY SELECT v_rec, v_all - v_rec;
END
$$;

-- ---------------------------------------------------------------- history for the report

-- The last p_nights nights before p_asof (the latest succeeded run of each): rows and new rows
-- per list.
CREATE FUNCTION canbao.report_trend(p_asof date, p_nights integer)
RETURNS TABLE (asof date, list_name text, rows bigint, new_rows bigint)
LANGUAGE sql STABLE AS $$
    WITH nights AS (
        SELECT DISTINCT ON (r.asof) r.asof, r.run_id
          FROM canbao.runs r
         WHERE r.state = 'succeeded' AND r.asof < p_asof
         ORDER BY r.asof DESC, r.run_id DESC
         LIMIT p_nights)
    SELECT n.asof, c.list_name, c.rows, c.new_rows
      FROM nights n JOIN canbao.run_list_counts c ON c.run_id = n.run_id
     ORDER BY n.asof, c.list_name
$$;

-- The persons on list p_list a month before p_asof (the latest succeeded night on or before
-- that day), with their township then: the cohort whose enrolment since the report counts.
CREATE FUNCTION canbao.report_cohort(p_asof date, p_list text)
RETURNS TABLE (cohort_asof date, id_number char(18), township text)
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT r.run_id, r.asof
          FROM canbao.runs r
         WHERE r.state = 'succeeded' AND r.asof <= (p_asof - interval '1 month')::date
         ORDER BY r.asof DESC, r.run_id DESC
         LIMIT 1)
    SELECT c.asof, l.id_number, l.township
      FROM c JOIN canbao.list_rows l ON l.run_id = c.run_id AND l.list_name = p_list
     ORDER BY l.id_number
$$;

-- The townships' latest answers for workbooks of nights up to p_asof: per township and outcome.
CREATE FUNCTION canbao.report_feedback(p_asof date)
RETURNS TABLE (township text, outcome text, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.township, f.outcome, count(*)
      FROM (SELECT DISTINCT ON (fb.item_id) fb.item_id, fb.township, fb.outcome
              FROM canbao.feedback fb JOIN canbao.feedback_files ff ON ff.file_id = fb.file_id
             WHERE ff.asof <= p_asof
             ORDER BY fb.item_id, fb.feedback_id DESC) f
     GROUP BY f.township, f.outcome
     ORDER BY f.township, f.outcome
$$;

-- ---------------------------------------------------------------- views

-- Each item's latest township answer.
CREATE VIEW canbao.latest_feedback AS
SELECT DISTINCT ON (f.item_id) f.item_id, f.feedback_id, f.file_id, f.township, f.sheet, f.row_no,
       f.outcome, f.outcome_date, f.note
  FROM canbao.feedback f
 ORDER BY f.item_id, f.feedback_id DESC;

-- Township answers that are evidence for the rules: 已死亡 → a death, 已迁出 → moved out.
-- Always to verify: a clerk's word never confirms a death on its own.
CREATE VIEW canbao.feedback_evidence AS
SELECT i.id_number,
       CASE f.outcome WHEN '已死亡' THEN 'death' ELSE 'moved_out' END AS kind,
       f.outcome_date AS reported_date,
       ff.asof        AS recorded_asof,
       f.township,
       f.feedback_id,
       'to_verify'::text AS confidence
  FROM canbao.latest_feedback f
  JOIN canbao.list_items i ON i.item_id = f.item_id
  JOIN canbao.feedback_files ff ON ff.file_id = f.file_id
 WHERE f.outcome IN ('已死亡', '已迁出');

-- May role p_role see this township's rows?  The schema's owner (the engine, the bureau) sees
-- all; a member of a role mapped in township_roles sees that township.  SECURITY DEFINER so
-- that township roles need no access to township_roles; the view passes current_user.
CREATE FUNCTION canbao.may_see_township(p_township text, p_role name)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT pg_has_role(p_role, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'canbao'), 'MEMBER')
        OR EXISTS (SELECT 1 FROM canbao.township_roles t JOIN pg_roles r ON r.rolname = t.role_name
                    WHERE t.township = p_township AND pg_has_role(p_role, t.role_name, 'MEMBER'))
$$;

-- The rows of the latest succeeded night, as a township sees them: ID numbers masked, the
-- lifecycle state, new since the night before, the latest answer.  Grant township roles
-- SELECT on these views only (not on the tables).
CREATE VIEW canbao.township_rows WITH (security_barrier) AS
SELECT l.list_name, l.township, l.village, l.household,
       left(l.id_number, 6) || '********' || right(l.id_number, 4) AS id_masked,
       l.columns->>'name' AS name,
       l.columns, i.item_id, i.state, (ri.status = 'new') AS new_since_last_night,
       i.first_asof, f.outcome, f.outcome_date, f.note, r.asof
  FROM canbao.runs r
  JOIN canbao.list_rows l ON l.run_id = r.run_id
  LEFT JOIN canbao.run_items ri ON ri.run_id = l.run_id AND ri.list_name = l.list_name AND ri.row_no = l.row_no
  LEFT JOIN canbao.list_items i ON i.item_id = ri.item_id
  LEFT JOIN canbao.latest_feedback f ON f.item_id = i.item_id
 WHERE r.run_id = (SELECT max(x.run_id) FROM canbao.runs x WHERE x.state = 'succeeded')
   AND canbao.may_see_township(l.township, current_user);

CREATE VIEW canbao.v_unenrolled_eligible AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'unenrolled_eligible';
CREATE VIEW canbao.v_unenrolled_in_prison AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'unenrolled_in_prison';
CREATE VIEW canbao.v_deceased_beneficiaries AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'deceased_beneficiaries';
CREATE VIEW canbao.v_deceased_contributors AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'deceased_contributors';
CREATE VIEW canbao.v_prison_suspension AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'prison_suspension';
CREATE VIEW canbao.v_double_enrolment AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'double_enrolment';
CREATE VIEW canbao.v_approaching_benefit_age AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'approaching_benefit_age';
CREATE VIEW canbao.v_proof_of_life_due AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'proof_of_life_due';
CREATE VIEW canbao.v_contribution_reconciliation AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'contribution_reconciliation';
CREATE VIEW canbao.v_township_staffing AS
    SELECT * FROM canbao.township_rows WHERE list_name = 'township_staffing';
