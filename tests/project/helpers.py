"""Small helpers shared by the project tests."""

from __future__ import annotations

import re


def exactly(message: str) -> str:
    """A `pytest.raises(match=...)` pattern matching the whole message and nothing else."""
    return f"^{re.escape(message)}$"
