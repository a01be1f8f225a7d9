-- Entities ranked by mentions, with the number of articles that name them.
CREATE OR REPLACE VIEW top_entities AS
SELECT entity_id, name, entity_type, mention_count, article_count, aliases
FROM entities
ORDER BY mention_count DESC, name;
