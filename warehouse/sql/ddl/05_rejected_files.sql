-- Input files a run could not load, with the reason.
-- Schema owner: transforms/schema.py (REJECTED_FILES); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS rejected_files (
    run_id                 VARCHAR NOT NULL,
    source_path            VARCHAR NOT NULL,
    reason                 VARCHAR NOT NULL,
    detail                 VARCHAR NOT NULL,
    step                   VARCHAR NOT NULL,
    size_bytes             BIGINT,
    content_sha256         VARCHAR,
    rejected_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, source_path)
);
