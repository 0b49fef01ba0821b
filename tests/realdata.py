"""Where the real-world files of `../shared/realdata/` are (never copied, never edited).

In CI the repository is cloned next to a `shared` folder; from a worktree elsewhere the
machine-wide copy in /work/shared/realdata is used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CANDIDATES = (REPO.parent / "shared" / "realdata", Path("/work/shared/realdata"))


def realdata_dir() -> Path:
    for candidate in CANDIDATES:
        if candidate.is_dir():
            return candidate
    pytest.skip("the real-world files (../shared/realdata) are not next to the repository")


def realdata_files(folder: str, suffix: str) -> list[str]:
    """Names of the files of one folder, for parametrising (empty when absent)."""
    for candidate in CANDIDATES:
        if (candidate / folder).is_dir():
            return sorted(p.name for p in (candidate / folder).glob(f"*{suffix}"))
    return []


def read_realdata(folder: str, name: str) -> bytes:
    return (realdata_dir() / folder / name).read_bytes()
