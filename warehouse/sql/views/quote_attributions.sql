-- Who said what, where: every quote with its speaker, the article's title, date and source.
CREATE OR REPLACE VIEW quote_attributions AS
SELECT
    q.quote_id,
    q.article_id,
    a.title,
    a.published_at,
    a.dateline,
    a.agency,
    a.source_path,
    q.speaker,
    q.speaker_text,
    q.speaker_entity_id,
    q.cue,
    q.kind,
    q.text AS quote,
    q.paragraph_index,
    q.word_count
FROM quotes q
JOIN articles a USING (article_id);
