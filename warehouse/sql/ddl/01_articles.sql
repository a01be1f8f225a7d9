-- One row per article (a decoded, parsed input file).
-- Schema owner: transforms/schema.py (ARTICLES); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS articles (
    article_id             VARCHAR NOT NULL,
    source_path            VARCHAR NOT NULL,
    content_sha256         VARCHAR NOT NULL,
    size_bytes             BIGINT NOT NULL,
    encoding               VARCHAR NOT NULL,
    encoding_fallback      BOOLEAN NOT NULL,
    title                  VARCHAR,
    publisher              VARCHAR,
    agency                 VARCHAR,
    dateline               VARCHAR,
    standfirst             VARCHAR,
    body                   VARCHAR NOT NULL,
    body_offset            INTEGER NOT NULL,
    headings               VARCHAR[] NOT NULL,
    published_at           DATE,
    word_count             INTEGER NOT NULL,
    paragraph_count        INTEGER NOT NULL,
    run_id                 VARCHAR NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    missing_since          TIMESTAMPTZ,
    PRIMARY KEY (article_id)
);
