-- canbao core schema: the run ledger, the files received, rejects, and the lists with their
-- evidence.  Applied by `canbao db migrate` inside one transaction; never edit a migration that
-- has been applied somewhere: add a new one.

CREATE SCHEMA IF NOT EXISTS canbao;

-- One row per run (the ledger).  A run row is written (state running) before the work starts
-- and committed on its own, so that a failed run is still on record; everything else a run
-- produces is written in one transaction together with the change to succeeded.
CREATE TABLE canbao.runs (
    run_id          bigserial PRIMARY KEY,
    asof            date        NOT NULL,
    state           text        NOT NULL DEFAULT 'running'
                    CHECK (state IN ('running', 'succeeded', 'failed', 'superseded')),
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    engine_version  text        NOT NULL,
    ruleset_sha256  text,
    host            text,
    extracts_dir    text,
    parameters      jsonb,
    message         text
);
CREATE INDEX runs_asof ON canbao.runs (asof, run_id);

-- Every file of a delivery that a source definition claimed, with what became of its records.
CREATE TABLE canbao.source_files (
    run_id        bigint NOT NULL REFERENCES canbao.runs ON DELETE CASCADE,
    file_no       integer NOT NULL,
    source        text   NOT NULL,
    agency        text   NOT NULL,
    fact_kind     text   NOT NULL,
    file_name     text   NOT NULL,
    size_bytes    bigint NOT NULL,
    sha256        text   NOT NULL,
    records_read  bigint NOT NULL,
    accepted      bigint NOT NULL,
    duplicates    bigint NOT NULL,
    rejected      bigint NOT NULL,
    PRIMARY KEY (run_id, file_no),
    CONSTRAINT nothing_lost CHECK (records_read = accepted + duplicates + rejected)
);

-- A record that could not become a fact: where it was, why, and its raw text (capped).
CREATE TABLE canbao.rejects (
    run_id       bigint  NOT NULL REFERENCES canbao.runs ON DELETE CASCADE,
    file_no      integer NOT NULL,
    record_no    bigint  NOT NULL,          -- 1-based data record number in the file
    line_no      bigint  NOT NULL,          -- physical line where the record starts
    byte_offset  bigint  NOT NULL,          -- of the record's first byte (uncompressed)
    reason       text    NOT NULL,
    raw          text    NOT NULL,
    PRIMARY KEY (run_id, file_no, record_no),
    FOREIGN KEY (run_id, file_no) REFERENCES canbao.source_files ON DELETE CASCADE
);

-- The rows of every list.  `columns` holds the list's own columns (as in its CSV).
CREATE TABLE canbao.list_rows (
    run_id        bigint  NOT NULL REFERENCES canbao.runs ON DELETE CASCADE,
    list_name     text    NOT NULL,
    row_no        integer NOT NULL,
    id_number     char(18),
    township      text,
    village       text,
    household     text,
    columns       jsonb   NOT NULL,
    rule          text    NOT NULL,
    rule_version  text    NOT NULL,
    PRIMARY KEY (run_id, list_name, row_no)
);
CREATE INDEX list_rows_person ON canbao.list_rows (id_number);

-- The facts that decided a row: which agency's file and which record in it.
CREATE TABLE canbao.list_evidence (
    run_id     bigint  NOT NULL,
    list_name  text    NOT NULL,
    row_no     integer NOT NULL,
    file_no    integer NOT NULL,
    record_no  bigint  NOT NULL,
    fact_kind  text    NOT NULL,
    FOREIGN KEY (run_id, list_name, row_no) REFERENCES canbao.list_rows ON DELETE CASCADE,
    FOREIGN KEY (run_id, file_no) REFERENCES canbao.source_files ON DELETE CASCADE
);
CREATE INDEX list_evidence_row ON canbao.list_evidence (run_id, list_name, row_no);
