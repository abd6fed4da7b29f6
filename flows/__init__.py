"""Scheduled work: deadline sweep, district obligations, outbox dispatch (Prefect 3)."""
