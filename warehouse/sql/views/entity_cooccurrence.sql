-- Which entities appear together in articles: one row per pair (named entities, MISC left
-- out), with the number of articles that mention both.
CREATE OR REPLACE VIEW entity_cooccurrence AS
WITH article_entities AS (
    SELECT DISTINCT article_id, entity_id FROM mentions WHERE entity_type <> 'MISC'
)
SELECT
    a.entity_id AS entity_a,
    ea.name AS name_a,
    ea.entity_type AS type_a,
    b.entity_id AS entity_b,
    eb.name AS name_b,
    eb.entity_type AS type_b,
    count(*) AS articles
FROM article_entities a
JOIN article_entities b ON a.article_id = b.article_id AND a.entity_id < b.entity_id
JOIN entities ea ON ea.entity_id = a.entity_id
JOIN entities eb ON eb.entity_id = b.entity_id
GROUP BY ALL
ORDER BY articles DESC, name_a, name_b;
