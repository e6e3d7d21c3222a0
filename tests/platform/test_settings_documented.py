"""Every setting a person can set is in the README's configuration table."""

from __future__ import annotations

from pathlib import Path

from switchboard.config import Settings


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = []
    for name, field in Settings.model_fields.items():
        variable = field.validation_alias if isinstance(field.validation_alias, str) else name.upper()
        if f"| `{variable}` |" not in readme:
            missing.append(variable)
        assert field.description, f"{variable} has no description"
    assert missing == [], f"add these to README.md's Configuration table: {missing}"
