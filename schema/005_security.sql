-- canbao 005: least privilege, row-level security, the audit log, pseudonymised analytics.
--
-- Roles.  Group roles, NOLOGIN, created here once per cluster (roles are cluster-wide; every
-- database that migrates grants them its own privileges).  People and programs log in with
-- login roles that are members of one group (deploy/setup-database.sh creates them):
--
--   canbao_engine    the nightly run and the operators' commands (run, review, feedback, ack):
--                    reads and writes the tables, cannot change or delete the audit log
--   canbao_bureau    the data bureau's staff: read every table (not the audit log), write nothing
--   canbao_auditor   the ledger (runs, source_files, run_list_counts, schema_migrations) and
--                    the audit log; no list row, no ID number
--   canbao_analyst   the pseudonymised statistics (analytics_rows, analytics_counts): tokens
--                    instead of ID numbers
--   canbao_township  what every township role has in common: the township views and, through
--                    row-level security, the rows of its own township only, ID numbers masked
--   canbao_township_<code>   one role per township (canbao.township_role_add('222401001')),
--                    member of canbao_township, mapped to its code in canbao.township_roles;
--                    a clerk's login role is a member of its township's role
--
-- Which township a role sees is the mapping table canbao.township_roles (role → township code,
-- from 003), read through canbao.may_see_township(township, current_user): membership of the
-- mapped role, not a naming convention, decides.  The owner of schema canbao (the role that
-- runs the migrations) sees everything and bypasses row-level security as table owner; the
-- nightly run should not log in as it.
--
-- Creating the roles needs CREATEROLE (or a superuser) the first time this migration runs in a
-- cluster; later databases find them.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['canbao_engine', 'canbao_bureau', 'canbao_auditor', 'canbao_analyst',
                             'canbao_township'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION
                WHEN duplicate_object THEN NULL;   -- another database's migration made it just now
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'migration 005 must create the group role %', r
                        USING HINT = 'run canbao db migrate once as a role with CREATEROLE (or a '
                                     'superuser), e.g. deploy/setup-database.sh';
            END;
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- township roles

-- Creates (when missing) the role of a township, makes it a member of canbao_township and maps
-- it to the township's code.  Returns the role's name.  Needs CREATEROLE; codes come from the
-- reference list of divisions (they change when townships merge), never from here.
CREATE FUNCTION canbao.township_role_add(p_township text)
RETURNS name
LANGUAGE plpgsql AS $$
DECLARE
    v_role name;
BEGIN
    IF p_township IS NULL OR p_township !~ '^[0-9]{6,12}$' THEN
        RAISE EXCEPTION 'township code % is not 6 to 12 digits', coalesce(p_township, 'NULL');
    END IF;
    v_role := 'canbao_township_' || p_township;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE canbao_township', v_role);
    ELSIF NOT pg_has_role(v_role, 'canbao_township', 'MEMBER') THEN
        EXECUTE format('GRANT canbao_township TO %I', v_role);
    END IF;
    INSERT INTO canbao.township_roles (role_name, township) VALUES (v_role, p_township)
    ON CONFLICT DO NOTHING;
    RETURN v_role;
END
$$;

-- ---------------------------------------------------------------- the audit log

-- Append-only: who did what and when.  Rows come from triggers (runs and their publication,
-- review decisions, feedback and acknowledgement files, dismissals) and from
-- canbao.audit_record (township packages, pseudonymised statistics).  Nobody is granted UPDATE,
-- DELETE or TRUNCATE, and triggers refuse them even for the owner and superusers; no role
-- may INSERT directly either: rows are written by the SECURITY DEFINER functions below, which
-- fill in who and when themselves.
--   db_user      session_user: the login role (SET ROLE does not change it)
--   os_user      the operating-system user the canbao client says it runs as
--                (canbao.os_user, set by canbao at connect; absent for other clients)
--   client_addr  the client's address (NULL: unix socket); ssl: the connection used TLS
--   action       run_started | run_succeeded | run_failed | run_<state> | export | package |
--                pseudonymise | review | feedback | ack | dismiss
-- Whether this session's connection uses TLS.
CREATE FUNCTION canbao.session_ssl() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()
$$;

CREATE TABLE canbao.audit_log (
    audit_id     bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    db_user      name        NOT NULL DEFAULT session_user,
    os_user      text        DEFAULT nullif(current_setting('canbao.os_user', true), ''),
    client_addr  inet        DEFAULT inet_client_addr(),
    ssl          boolean     DEFAULT canbao.session_ssl(),
    application  text        DEFAULT current_setting('application_name'),
    action       text        NOT NULL CHECK (action ~ '^[a-z_]+$'),
    run_id       bigint,     -- no foreign key: the record outlives a deleted run
    object       text,       -- what: an as-of date, a file, a record
    detail       jsonb
);
CREATE INDEX audit_log_at ON canbao.audit_log (at);
CREATE INDEX audit_log_run ON canbao.audit_log (run_id) WHERE run_id IS NOT NULL;

CREATE FUNCTION canbao.audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'canbao.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON canbao.audit_log
    FOR EACH ROW EXECUTE FUNCTION canbao.audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON canbao.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION canbao.audit_log_refuse();

-- An event recorded by the engine: township packages made, pseudonymised statistics written
-- (the caller cannot choose who or when).
CREATE FUNCTION canbao.audit_record(p_action text, p_run bigint, p_object text, p_detail jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_action NOT IN ('package', 'pseudonymise') THEN
        RAISE EXCEPTION 'audit action % is recorded by the database itself, not by a client', p_action;
    END IF;
    INSERT INTO canbao.audit_log (action, run_id, object, detail)
    VALUES (p_action, p_run, p_object, p_detail) RETURNING audit_id INTO v_id;
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION canbao.audit_record(text, bigint, text, jsonb) FROM PUBLIC;

-- Runs: started, every change of state (succeeded, failed, superseded ...), and the export:
-- the moment the run's files were published (004: published_at set, out_dir and release).
-- Columns of later migrations are read through to_jsonb so that this trigger does not depend
-- on them.
CREATE FUNCTION canbao.audit_runs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n jsonb := to_jsonb(NEW);
    o jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO canbao.audit_log (action, run_id, object, detail)
        VALUES ('run_started', NEW.run_id, NEW.asof::text,
                jsonb_build_object('engine_version', NEW.engine_version, 'host', NEW.host,
                                   'extracts_dir', NEW.extracts_dir));
        RETURN NULL;
    END IF;
    o := to_jsonb(OLD);
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO canbao.audit_log (action, run_id, object, detail)
        VALUES ('run_' || NEW.state, NEW.run_id, NEW.asof::text,
                jsonb_build_object('from', OLD.state, 'ruleset_sha256', NEW.ruleset_sha256,
                                   'message', NEW.message));
    END IF;
    IF n->>'published_at' IS NOT NULL AND o->>'published_at' IS NULL THEN
        INSERT INTO canbao.audit_log (action, run_id, object, detail)
        VALUES ('export', NEW.run_id, coalesce(n->>'out_dir', NEW.asof::text),
                jsonb_build_object('asof', NEW.asof, 'release', n->'release',
                                   'published_at', n->'published_at'));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_runs AFTER INSERT OR UPDATE ON canbao.runs
    FOR EACH ROW EXECUTE FUNCTION canbao.audit_runs();

-- Review decisions about uncertain links (canbao review, or UPDATE by hand).
CREATE FUNCTION canbao.audit_review() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.decision IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.decision IS DISTINCT FROM OLD.decision
            OR NEW.decided_at IS DISTINCT FROM OLD.decided_at) THEN
        INSERT INTO canbao.audit_log (action, run_id, object, detail)
        VALUES ('review', NEW.run_id, NEW.file_name || ':' || NEW.record_no,
                jsonb_build_object('review_id', NEW.review_id, 'record_key', NEW.record_key,
                                   'candidate_id', NEW.candidate_id, 'decision', NEW.decision,
                                   'decided_by', NEW.decided_by, 'note', NEW.note));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_review AFTER INSERT OR UPDATE OF decision, decided_at ON canbao.match_review
    FOR EACH ROW EXECUTE FUNCTION canbao.audit_review();

-- A township's returned workbook (canbao feedback) and an acknowledgement file (canbao ack).
CREATE FUNCTION canbao.audit_import() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'feedback_files' THEN
        INSERT INTO canbao.audit_log (action, run_id, object, detail)
        VALUES ('feedback', NEW.run_id, NEW.file_name,
                jsonb_build_object('file_id', NEW.file_id, 'township', NEW.township,
                                   'asof', NEW.asof, 'sha256', NEW.sha256));
    ELSE
        INSERT INTO canbao.audit_log (action, object, detail)
        VALUES ('ack', NEW.file_name, jsonb_build_object('file_id', NEW.file_id, 'sha256', NEW.sha256));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_feedback AFTER INSERT ON canbao.feedback_files
    FOR EACH ROW EXECUTE FUNCTION canbao.audit_import();
CREATE TRIGGER audit_ack AFTER INSERT ON canbao.ack_files
    FOR EACH ROW EXECUTE FUNCTION canbao.audit_import();

-- A list item dismissed by a person (canbao.item_dismiss, or an acknowledgement "not deceased").
CREATE FUNCTION canbao.audit_dismiss() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO canbao.audit_log (action, run_id, object, detail)
    VALUES ('dismiss', NEW.run_id, 'item ' || NEW.item_id,
            jsonb_build_object('from', NEW.from_state, 'by', NEW.by_whom, 'why', NEW.why));
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_dismiss AFTER INSERT ON canbao.item_events
    FOR EACH ROW WHEN (NEW.to_state = 'dismissed') EXECUTE FUNCTION canbao.audit_dismiss();

-- ---------------------------------------------------------------- pseudonymised analytics

-- Written by `canbao run --pseudonym-key FILE` (or `canbao pseudonymise`): for each list row
-- about a person, a token instead of the ID number: HMAC-SHA-256 (or HMAC-SM3) of the 18-digit
-- ID under the bureau's pseudonym key, in hex.  The same key gives the same token night after
-- night (trends per person without identities); another key gives unrelated tokens.  key_id
-- tells analysts whether two runs' tokens are comparable; the key itself never reaches the
-- database.
CREATE TABLE canbao.analytics_runs (
    run_id      bigint PRIMARY KEY REFERENCES canbao.runs ON DELETE CASCADE,
    algorithm   text   NOT NULL CHECK (algorithm IN ('HMAC-SHA-256', 'HMAC-SM3')),
    key_id      text   NOT NULL,
    rows        bigint NOT NULL,
    made_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE canbao.analytics_rows (
    run_id        bigint  NOT NULL REFERENCES canbao.analytics_runs ON DELETE CASCADE,
    list_name     text    NOT NULL,
    row_no        integer NOT NULL,
    township      text,
    village       text,
    is_new        boolean NOT NULL,      -- new on the list since the night before
    person_token  text    NOT NULL CHECK (person_token ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (run_id, list_name, row_no)
);
CREATE INDEX analytics_rows_token ON canbao.analytics_rows (person_token);

-- Counts per run, list and township: rows, distinct persons, new since the night before.
CREATE VIEW canbao.analytics_counts AS
SELECT a.run_id, r.asof, a.list_name, a.township, count(*) AS rows,
       count(DISTINCT a.person_token) AS persons, count(*) FILTER (WHERE a.is_new) AS new_rows,
       m.algorithm, m.key_id
  FROM canbao.analytics_rows a
  JOIN canbao.analytics_runs m ON m.run_id = a.run_id
  JOIN canbao.runs r ON r.run_id = a.run_id
 GROUP BY a.run_id, r.asof, a.list_name, a.township, m.algorithm, m.key_id;

-- ---------------------------------------------------------------- the township views

-- 003's township_rows showed `columns` whole, and a list row's columns hold the full ID number:
-- the same view without it (id_masked stays the only ID a township sees).
CREATE OR REPLACE VIEW canbao.township_rows WITH (security_barrier) AS
SELECT l.list_name, l.township, l.village, l.household,
       left(l.id_number, 6) || '********' || right(l.id_number, 4) AS id_masked,
       l.columns->>'name' AS name,
       l.columns - 'id_number' AS columns, i.item_id, i.state, (ri.status = 'new') AS new_since_last_night,
       i.first_asof, f.outcome, f.outcome_date, f.note, r.asof
  FROM canbao.runs r
  JOIN canbao.list_rows l ON l.run_id = r.run_id
  LEFT JOIN canbao.run_items ri ON ri.run_id = l.run_id AND ri.list_name = l.list_name AND ri.row_no = l.row_no
  LEFT JOIN canbao.list_items i ON i.item_id = ri.item_id
  LEFT JOIN canbao.latest_feedback f ON f.item_id = i.item_id
 WHERE r.run_id = (SELECT max(x.run_id) FROM canbao.runs x WHERE x.state = 'succeeded')
   AND canbao.may_see_township(l.township, current_user);

-- ---------------------------------------------------------------- row-level security

-- Tables with a township column: a township role reads its own township's rows only.  The
-- engine and the bureau have policies that let them see (the engine: change) every row.
ALTER TABLE canbao.list_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE canbao.feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE canbao.feedback_files ENABLE ROW LEVEL SECURITY;

CREATE POLICY engine_all ON canbao.list_rows TO canbao_engine USING (true) WITH CHECK (true);
CREATE POLICY bureau_read ON canbao.list_rows FOR SELECT TO canbao_bureau USING (true);
CREATE POLICY township_own ON canbao.list_rows FOR SELECT TO canbao_township
    USING (canbao.may_see_township(township, current_user));

CREATE POLICY engine_all ON canbao.feedback TO canbao_engine USING (true) WITH CHECK (true);
CREATE POLICY bureau_read ON canbao.feedback FOR SELECT TO canbao_bureau USING (true);
CREATE POLICY township_own ON canbao.feedback FOR SELECT TO canbao_township
    USING (canbao.may_see_township(township, current_user));

CREATE POLICY engine_all ON canbao.feedback_files TO canbao_engine USING (true) WITH CHECK (true);
CREATE POLICY bureau_read ON canbao.feedback_files FOR SELECT TO canbao_bureau USING (true);
CREATE POLICY township_own ON canbao.feedback_files FOR SELECT TO canbao_township
    USING (canbao.may_see_township(township, current_user));

-- ---------------------------------------------------------------- privileges

REVOKE ALL ON SCHEMA canbao FROM PUBLIC;
GRANT USAGE ON SCHEMA canbao
    TO canbao_engine, canbao_bureau, canbao_auditor, canbao_analyst, canbao_township;

-- the engine: every table, every sequence; the ledger of migrations read only (canbao db
-- migrate is the owner's job).  The engine's login role needs the attribute BYPASSRLS (COPY
-- into a table with row-level security needs it; attributes are not inherited, so
-- deploy/setup-database.sh gives it to the login role).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA canbao TO canbao_engine;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA canbao TO canbao_engine;
REVOKE INSERT, UPDATE, DELETE ON canbao.schema_migrations FROM canbao_engine;
GRANT EXECUTE ON FUNCTION canbao.audit_record(text, bigint, text, jsonb) TO canbao_engine;

-- lifecycle_apply ANALYZEs the tables the run just filled (without fresh statistics the
-- planner joins 25,000 rows one by one); only a table's owner may ANALYZE it, so the function
-- runs as the owner, and only the engine may call it.
ALTER FUNCTION canbao.lifecycle_apply(bigint, text[]) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION canbao.lifecycle_apply(bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canbao.lifecycle_apply(bigint, text[]) TO canbao_engine;

-- the bureau: reads everything
GRANT SELECT ON ALL TABLES IN SCHEMA canbao TO canbao_bureau;

-- the auditor: the ledger and the audit log, no list rows
GRANT SELECT ON canbao.runs, canbao.source_files, canbao.run_list_counts, canbao.schema_migrations,
                canbao.audit_log
    TO canbao_auditor;

-- the analysts: pseudonymised statistics only
GRANT SELECT ON canbao.analytics_rows, canbao.analytics_runs, canbao.analytics_counts TO canbao_analyst;

-- townships: the views (masked IDs), and from the tables the columns without ID numbers,
-- their own rows only (policies above)
GRANT SELECT ON canbao.township_rows, canbao.v_unenrolled_eligible, canbao.v_unenrolled_in_prison,
                canbao.v_deceased_beneficiaries, canbao.v_deceased_contributors,
                canbao.v_prison_suspension, canbao.v_double_enrolment,
                canbao.v_approaching_benefit_age, canbao.v_proof_of_life_due,
                canbao.v_contribution_reconciliation, canbao.v_township_staffing
    TO canbao_township;
GRANT SELECT (run_id, list_name, row_no, township, village, household, rule, rule_version)
    ON canbao.list_rows TO canbao_township;
GRANT SELECT ON canbao.feedback, canbao.feedback_files TO canbao_township;

-- the audit log: nobody changes it, nobody but the functions above writes it
REVOKE ALL ON canbao.audit_log FROM PUBLIC, canbao_engine, canbao_bureau, canbao_analyst, canbao_township;
GRANT SELECT ON canbao.audit_log TO canbao_auditor;
REVOKE ALL ON SEQUENCE canbao.audit_log_audit_id_seq FROM PUBLIC, canbao_engine;

-- tables of later migrations: the same for the engine and the bureau
ALTER DEFAULT PRIVILEGES IN SCHEMA canbao GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO canbao_engine;
ALTER DEFAULT PRIVILEGES IN SCHEMA canbao GRANT USAGE, SELECT ON SEQUENCES TO canbao_engine;
ALTER DEFAULT PRIVILEGES IN SCHEMA canbao GRANT SELECT ON TABLES TO canbao_bureau;
