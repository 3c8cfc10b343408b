"""Fixtures of the data tests."""

from pathlib import Path

import pytest
from data_helpers import VERSE, write


@pytest.fixture
def verse_file(tmp_path: Path) -> Path:
    """A plain UTF-8 song file with the invented verse."""
    return write(tmp_path / "verse.txt", "\n".join(VERSE) + "\n")
