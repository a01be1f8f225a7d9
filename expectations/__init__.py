"""Data-quality suites (Great Expectations), the code that runs them, and the report."""
