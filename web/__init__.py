"""Legami web application (FastAPI + Jinja2 + htmx, Bootstrap Italia)."""
