"""Docs are tested: a command or config key nobody documented fails the suite (as in sqlite-utils)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from archive import config as cfg
from speech_archive.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
CONFIG_DOC = (REPO / "docs" / "CONFIG.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"speech-archive {command}" in README, f"README.md does not document `speech-archive {command}`"


def _keys(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items() if not field.exclude]


@pytest.mark.parametrize(
    ("section", "model"),
    [
        ("[archive]", cfg.ArchiveSettings),
        ("[crawl]", cfg.CrawlSettings),
        ("[daemon]", cfg.DaemonSettings),
        ("[works]", cfg.WorksSettings),
        ("[web]", cfg.WebSettings),
        ("[[sites]]", cfg.SiteConfig),
        ("[profiles.NAME]", cfg.ProfileConfig),
    ],
)
def test_every_config_key_is_documented(section: str, model: type[BaseModel]) -> None:
    assert section in CONFIG_DOC
    missing = [key for key in _keys(model) if not re.search(rf"\| `{re.escape(key)}` \|", CONFIG_DOC)]
    assert not missing, f"docs/CONFIG.md lacks {section} keys: {missing}"


def test_readme_quick_start_has_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make run" in quick and "make test" in quick
