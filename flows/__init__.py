"""Orchestration only: the Prefect flow, its tasks and the command line."""
