"""Errors of the ingestion context, under the platform's `AppError` tree.

AppError
├── Conflict (409)
│   └── DuplicateDocument      the same file is already in the collection
└── ValidationFailed (422)
    └── ExtractionFailed       the file has the right type but no usable text
"""

from __future__ import annotations

from switchboard.platform.errors import Conflict, ValidationFailed


class DuplicateDocument(Conflict):
    """The same content is already in the collection."""

    code, message = "duplicate_document", "This document is already in the collection"


class ExtractionFailed(ValidationFailed):
    """The file has the right type but no usable text could be taken from it."""

    code, message = "extraction_failed", "No text could be extracted from this file"
