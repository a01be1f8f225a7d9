-- Rows that failed a row-level critical expectation, set aside with the reason.
-- Schema owner: transforms/schema.py (QUARANTINE); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS quarantine (
    run_id                 VARCHAR NOT NULL,
    table_name             VARCHAR NOT NULL,
    row_key                VARCHAR NOT NULL,
    check_name             VARCHAR NOT NULL,
    article_id             VARCHAR NOT NULL,
    source_path            VARCHAR,
    expectation            VARCHAR NOT NULL,
    reason                 VARCHAR NOT NULL,
    row_json               VARCHAR NOT NULL,
    quarantined_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, table_name, row_key, check_name)
);
