-- One row per distinct entity across the warehouse, rebuilt from mentions on every load.
-- Schema owner: transforms/schema.py (ENTITIES); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS entities (
    entity_id              VARCHAR NOT NULL,
    name                   VARCHAR NOT NULL,
    entity_type            VARCHAR NOT NULL,
    aliases                VARCHAR[] NOT NULL,
    mention_count          BIGINT NOT NULL,
    article_count          BIGINT NOT NULL,
    PRIMARY KEY (entity_id)
);
