"""Small HTTP servers on 127.0.0.1 that speak third-party protocols, so tests exercise the real client libraries."""
