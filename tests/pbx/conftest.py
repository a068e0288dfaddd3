from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_TRACES = REPO_ROOT.parent / "shared" / "ami-traces"


@pytest.fixture(scope="session")
def shared_traces() -> Path:
    """The original recordings beside the repository (``../shared/ami-traces``)."""
    if not (SHARED_TRACES / "set2").is_dir():
        pytest.skip(f"the shared AMI recordings are not present at {SHARED_TRACES}")
    return SHARED_TRACES
