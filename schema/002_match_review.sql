-- Clerical review of uncertain identity links (engine/linkage.c, `canbao review`).
--
-- Every run stores, in its own transaction, the records identity resolution could not settle
-- with certainty: probabilistic links (probable, to_verify), records without a match
-- (no_match) and IDs several register numbers could be (ambiguous), each with its leading
-- candidates, scores and per-comparison weights.  A reviewer records a decision on a row
-- (decision = same / different), with `canbao review` or with SQL:
--
--   UPDATE canbao.match_review SET decision = 'same' WHERE review_id = 1234;
--
-- Every later run reads the latest decision per (record_key, candidate_id) and honours it:
-- "same" links the record to that person, "different" removes the candidate.  record_key
-- (source and a hash of the record's canonical values) is stable from night to night, so a
-- decision keeps applying to the same record in later deliveries.  Decisions outlive the runs:
-- deleting a run keeps its decided rows (run_id becomes NULL).

CREATE TABLE canbao.match_review (
    review_id       bigserial PRIMARY KEY,
    run_id          bigint REFERENCES canbao.runs ON DELETE SET NULL,
    record_key      text    NOT NULL,           -- "<source>:<16 hex digits>"
    source          text    NOT NULL,
    file_name       text    NOT NULL,
    record_no       bigint  NOT NULL,           -- 1-based data record in file_name
    outcome         text    NOT NULL            -- what the engine decided in that run
                    CHECK (outcome IN ('probable', 'to_verify', 'no_match', 'ambiguous', 'reviewed')),
    cand_rank       integer,                    -- 1 = best candidate; NULL: none
    candidate_id    char(18),
    candidate_name  text,
    weight          double precision,           -- match weight in bits, prior included
    probability     double precision,           -- one-to-one posterior of this candidate
    levels          jsonb,                      -- {"name": {"level": "exact", "weight": 9.1}, ...}
    decision        text CHECK (decision IN ('same', 'different')),
    decided_by      text,
    decided_at      timestamptz,
    note            text,
    CHECK (decision IS NULL OR candidate_id IS NOT NULL)
);
CREATE INDEX match_review_record ON canbao.match_review (record_key);
CREATE INDEX match_review_run_record ON canbao.match_review (run_id, file_name, record_no);
CREATE INDEX match_review_decided ON canbao.match_review (record_key, candidate_id, decided_at)
    WHERE decision IS NOT NULL;

-- A decision made with plain SQL gets who and when filled in.
CREATE FUNCTION canbao.match_review_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.decision IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.decided_at := coalesce(NEW.decided_at, now());
        NEW.decided_by := coalesce(NEW.decided_by, current_user);
    ELSIF NEW.decision IS DISTINCT FROM OLD.decision THEN
        IF NEW.decided_at IS NOT DISTINCT FROM OLD.decided_at THEN
            NEW.decided_at := now();
        END IF;
        IF NEW.decided_by IS NOT DISTINCT FROM OLD.decided_by THEN
            NEW.decided_by := current_user;
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER match_review_decided BEFORE INSERT OR UPDATE ON canbao.match_review
    FOR EACH ROW EXECUTE FUNCTION canbao.match_review_decided();

-- The decisions in force: the latest per record and candidate.
CREATE VIEW canbao.match_decisions AS
SELECT DISTINCT ON (record_key, candidate_id)
       record_key, candidate_id, decision, decided_by, decided_at, note, file_name, record_no
FROM canbao.match_review
WHERE decision IS NOT NULL
ORDER BY record_key, candidate_id, decided_at DESC NULLS LAST, review_id DESC;
