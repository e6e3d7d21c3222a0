"""`python -m switchboard.ingestion.embedding prepare DIR`: export the ONNX embedding model (install time)."""

from switchboard.ingestion.embedding.local import main

main()
