"""The web UI: server-rendered pages (Jinja2) and plain JavaScript modules that call the public API."""
