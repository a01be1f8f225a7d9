-- Data-quality results of the most recent run that evaluated expectations.
CREATE OR REPLACE VIEW dq_latest AS
SELECT d.*
FROM dq_results d
WHERE d.run_id = (
    SELECT r.run_id FROM runs r
    WHERE r.run_id IN (SELECT DISTINCT run_id FROM dq_results)
    ORDER BY r.started_at DESC
    LIMIT 1
)
ORDER BY d.success, d.severity, d.table_name, d.check_name;
