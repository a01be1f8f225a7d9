-- Every expectation evaluated in a run.
-- Schema owner: transforms/schema.py (DQ_RESULTS); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS dq_results (
    run_id                 VARCHAR NOT NULL,
    table_name             VARCHAR NOT NULL,
    expectation            VARCHAR NOT NULL,
    "column"               VARCHAR NOT NULL,
    check_name             VARCHAR NOT NULL,
    success                BOOLEAN NOT NULL,
    severity               VARCHAR NOT NULL,
    element_count          BIGINT,
    unexpected_count       BIGINT,
    unexpected_examples    VARCHAR,
    details                VARCHAR,
    evaluated_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, table_name, check_name)
);
