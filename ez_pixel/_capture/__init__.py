"""Caller's thread: the least that cannot wait.

The exception snapshot, the report-once rules, request facts and structlog records.
"""
