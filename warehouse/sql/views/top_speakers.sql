-- Speakers ranked by how many quotes and articles they appear in.
CREATE OR REPLACE VIEW top_speakers AS
SELECT
    speaker,
    any_value(speaker_entity_id) AS speaker_entity_id,
    count(*) AS quotes,
    count(DISTINCT article_id) AS articles,
    sum(word_count) AS quoted_words
FROM quotes
WHERE speaker IS NOT NULL
GROUP BY speaker
ORDER BY quotes DESC, speaker;
