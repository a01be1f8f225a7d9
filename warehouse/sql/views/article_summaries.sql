-- One row per article: what it is and how much it names and quotes.
CREATE OR REPLACE VIEW article_summaries AS
SELECT
    a.article_id,
    a.title,
    a.published_at,
    a.dateline,
    a.agency,
    a.word_count,
    coalesce(m.mentions, 0) AS mentions,
    coalesce(m.entities, 0) AS entities,
    coalesce(q.quotes, 0) AS quotes,
    coalesce(q.speakers, []) AS speakers,
    a.source_path
FROM articles a
LEFT JOIN (
    SELECT article_id, count(*) AS mentions, count(DISTINCT entity_id) AS entities
    FROM mentions GROUP BY article_id
) m USING (article_id)
LEFT JOIN (
    SELECT article_id, count(*) AS quotes,
           list_sort(list_distinct(list(speaker) FILTER (WHERE speaker IS NOT NULL))) AS speakers
    FROM quotes GROUP BY article_id
) q USING (article_id)
ORDER BY a.published_at DESC NULLS LAST, a.title;
