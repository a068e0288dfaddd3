"""Recorded calls (MixMonitor WAVs, one file per leg) through the same pool as live calls."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from asr.errors import UnsupportedAudioError
from asr.pool import TranscriptionPool
from asr.recordings import read_wav, transcribe_recording
from tests.asr.conftest import word_pcm
from tests.asr.synth import write_wav


def leg(tmp_path: Path, name: str, parts: list[tuple[float, str]], seconds: float) -> Path:
    """An 8 kHz leg of ``seconds`` with each word placed at its time (silence elsewhere)."""
    pcm = bytearray(int(8000 * seconds) * 2)
    for at, word in parts:
        speech = word_pcm(word, 8000)
        start = int(8000 * at) * 2
        pcm[start : start + len(speech)] = speech
    path = tmp_path / name
    write_wav(path, bytes(pcm), 8000)
    return path


async def test_given_two_legs_then_one_dialogue_ordered_by_time(
    pool: TranscriptionPool, grammar: tuple[str, ...], tmp_path: Path
) -> None:
    # As MixMonitor(${UNIQUEID}.wav,b,r(…-in.wav)t(…-out.wav)) writes them: one speaker per file.
    citizen = leg(tmp_path, "1795361390.4-in.wav", [(0.0, "안녕하세요"), (6.0, "엘리베이터")], 9.0)
    agent = leg(tmp_path, "1795361390.4-out.wav", [(3.0, "아니요")], 9.0)
    transcript = await transcribe_recording(pool, {"citizen": citizen, "agent": agent}, grammar=grammar)
    assert [(u.leg, u.final.text) for u in transcript.utterances] == [
        ("citizen", "안녕하세요"),
        ("agent", "아니요"),
        ("citizen", "엘리베이터"),
    ]
    starts = [u.start for u in transcript.utterances]
    assert starts[1] == pytest.approx(3.5, abs=0.2) and starts[2] == pytest.approx(6.5, abs=0.2)
    assert transcript.audio_seconds == {"citizen": 9.0, "agent": 9.0}
    assert transcript.text("citizen") == "안녕하세요 엘리베이터"


def test_given_a_stereo_or_44k_wav_then_refused(tmp_path: Path) -> None:
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(3200))
    with pytest.raises(UnsupportedAudioError):
        read_wav(stereo)
    cd_rate = tmp_path / "cd.wav"
    write_wav(cd_rate, bytes(4410), 44100)
    with pytest.raises(UnsupportedAudioError):
        read_wav(cd_rate)
