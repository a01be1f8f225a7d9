-- One row per pipeline run, failed and killed ones included.
-- Schema owner: transforms/schema.py (RUNS); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS runs (
    run_id                 VARCHAR NOT NULL,
    flow_run_id            VARCHAR,
    started_at             TIMESTAMPTZ NOT NULL,
    finished_at            TIMESTAMPTZ,
    status                 VARCHAR NOT NULL,
    seeds_dir              VARCHAR NOT NULL,
    files_seen             BIGINT,
    files_loaded           BIGINT,
    files_skipped          BIGINT,
    files_rejected         BIGINT,
    articles_rows          BIGINT,
    mentions_rows          BIGINT,
    quotes_rows            BIGINT,
    entities_rows          BIGINT,
    dq_success             BOOLEAN,
    dq_critical_failures   BIGINT,
    dq_warnings            BIGINT,
    report_path            VARCHAR,
    error                  VARCHAR,
    files_new              BIGINT,
    files_changed          BIGINT,
    files_deleted          BIGINT,
    full_refresh           BOOLEAN,
    files_quarantined      BIGINT,
    PRIMARY KEY (run_id)
);
