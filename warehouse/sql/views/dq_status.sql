-- Is today's load fine? The latest run with its verdict and what failed.
CREATE OR REPLACE VIEW dq_status AS
SELECT
    r.run_id,
    r.started_at,
    r.finished_at,
    r.status,
    r.files_seen,
    r.files_loaded,
    r.files_rejected,
    r.dq_success,
    r.dq_critical_failures,
    r.dq_warnings,
    (SELECT list(d.table_name || ': ' || d.check_name || ' (' || d.severity || ', '
                 || coalesce(d.unexpected_count, 0) || ' unexpected)' ORDER BY d.severity, d.table_name)
     FROM dq_results d WHERE d.run_id = r.run_id AND NOT d.success) AS failed_checks,
    r.error,
    r.report_path
FROM runs r
ORDER BY r.started_at DESC
LIMIT 1;
