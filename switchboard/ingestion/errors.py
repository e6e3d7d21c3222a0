"""Errors of the ingestion pipeline, under the platform's `AppError` tree.

AppError
└── ExtractionFailed (422)
"""

from __future__ import annotations

from switchboard.platform.errors import AppError


class ExtractionFailed(AppError):
    """The file has the right type but no usable text could be taken from it."""

    status, code, message = 422, "extraction_failed", "No text could be extracted from this file"
