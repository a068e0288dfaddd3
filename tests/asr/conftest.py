from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from asr.pool import TranscriptionPool
from asr.settings import packaged_model_path
from tests.asr.synth import DATA, GRAMMAR, wav_name

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_TRACES = REPO_ROOT.parent / "shared" / "ami-traces"


def read_pcm(name: str) -> tuple[int, bytes]:
    with wave.open(str(DATA / name), "rb") as wav:
        return wav.getframerate(), wav.readframes(wav.getnframes())


def word_pcm(word: str, rate: int) -> bytes:
    found_rate, pcm = read_pcm(wav_name(word, rate))
    assert found_rate == rate
    return pcm


@pytest.fixture(scope="session")
def model_path() -> Path:
    return packaged_model_path()


@pytest.fixture(scope="session")
def grammar() -> tuple[str, ...]:
    return GRAMMAR


@pytest.fixture(scope="session")
def shared_traces() -> Path:
    if not (SHARED_TRACES / "k-audiosocket.txt").is_file():
        pytest.skip(f"the shared recordings are not present at {SHARED_TRACES}")
    return SHARED_TRACES


@pytest.fixture(scope="session")
async def pool(model_path: Path) -> AsyncIterator[TranscriptionPool]:
    """Two workers, each loading the real model once, for the whole session."""
    async with TranscriptionPool(model_path, workers=2, queue_chunks=8) as running:
        yield running
