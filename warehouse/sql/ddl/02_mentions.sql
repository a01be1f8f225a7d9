-- One row per named-entity mention in an article's title, standfirst or body.
-- Schema owner: transforms/schema.py (MENTIONS); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS mentions (
    mention_id             VARCHAR NOT NULL,
    article_id             VARCHAR NOT NULL,
    entity_id              VARCHAR NOT NULL,
    text                   VARCHAR NOT NULL,
    entity_type            VARCHAR NOT NULL,
    entity_name            VARCHAR NOT NULL,
    field                  VARCHAR NOT NULL,
    char_start             INTEGER NOT NULL,
    char_end               INTEGER NOT NULL,
    paragraph_index        INTEGER,
    PRIMARY KEY (mention_id)
);
