-- One row per direct quotation in an article body, with its attributed speaker.
-- Schema owner: transforms/schema.py (QUOTES); tests/test_schema_contract.py checks this file.
CREATE TABLE IF NOT EXISTS quotes (
    quote_id               VARCHAR NOT NULL,
    article_id             VARCHAR NOT NULL,
    text                   VARCHAR NOT NULL,
    char_start             INTEGER NOT NULL,
    char_end               INTEGER NOT NULL,
    paragraph_index        INTEGER NOT NULL,
    paragraph_count        INTEGER NOT NULL,
    speaker                VARCHAR,
    speaker_entity_id      VARCHAR,
    speaker_text           VARCHAR,
    speaker_start          INTEGER,
    speaker_end            INTEGER,
    cue                    VARCHAR,
    kind                   VARCHAR NOT NULL,
    word_count             INTEGER NOT NULL,
    PRIMARY KEY (quote_id)
);
