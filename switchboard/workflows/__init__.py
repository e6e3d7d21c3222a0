"""Workflows: DAG definitions and their versions, the step-journal engine, runs and approval steps."""
