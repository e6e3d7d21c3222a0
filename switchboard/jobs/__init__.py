"""Jobs: one view over the work Switchboard runs (chat tasks, document ingestion, workflow runs).

A job is not a second engine: its id names the task, document or run it shows (`chat-<id>`,
`ingest-<id>`, `workflow-<id>`), its status is theirs, its events are their stream, and its
usage is summed from the usage records, chunks and steps they left.
"""

from switchboard.jobs import service

__all__ = ["service"]
