"""`EMBEDDED_WORKER`: how many worker processes `switchboard serve` starts, as a number or as true / false."""

from __future__ import annotations

import pytest

from switchboard.config import Settings, default_worker_processes

DEFAULT = default_worker_processes()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3), ("0", 0), ("false", 0), ("off", 0), ("true", DEFAULT), ("yes", DEFAULT)],
)
def test_embedded_worker_reads_a_count_or_true_and_false(monkeypatch, value, expected):
    monkeypatch.setenv("EMBEDDED_WORKER", value)
    count = Settings(_env_file=None).embedded_worker  # type: ignore[call-arg]
    assert count == expected


def test_the_default_is_sized_to_the_machine_and_never_zero(monkeypatch):
    monkeypatch.delenv("EMBEDDED_WORKER", raising=False)
    assert 1 <= Settings(_env_file=None).embedded_worker == default_worker_processes() <= 4  # type: ignore[call-arg]


def test_a_negative_count_is_refused(monkeypatch):
    monkeypatch.setenv("EMBEDDED_WORKER", "-1")
    with pytest.raises(ValueError, match="embedded_worker"):
        Settings(_env_file=None)  # type: ignore[call-arg]
