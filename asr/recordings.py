"""Recorded calls: the WAV files Asterisk's MixMonitor writes, through the same pool as live calls.

MixMonitor writes 16-bit signed linear mono WAV at the channel's rate (8 kHz on a G.711 call):
``MixMonitor(${UNIQUEID}.wav,b)`` gives one mixed file; with ``r(citizen.wav)t(agent.wav)`` it
also writes the two directions apart, which is what transcription wants (one speaker per leg).
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from asr.errors import UnsupportedAudioError
from asr.pool import TranscriptionPool
from asr.recognizer import SUPPORTED_RATES
from asr.transcript import Final


@dataclass(frozen=True, slots=True)
class Utterance:
    """One final segment of one leg (``"citizen"``, ``"agent"``, …) of a recorded call."""

    leg: str
    final: Final

    @property
    def start(self) -> float:
        return self.final.start if self.final.start is not None else 0.0


@dataclass(frozen=True, slots=True)
class CallTranscript:
    """Both legs of a call, utterances interleaved by time (对话记录)."""

    utterances: tuple[Utterance, ...]
    audio_seconds: dict[str, float]

    def text(self, leg: str | None = None) -> str:
        return " ".join(u.final.text for u in self.utterances if leg is None or u.leg == leg)


def read_wav(path: Path) -> tuple[int, bytes]:
    """``(sample rate, PCM)`` of a 16-bit mono WAV, refusing what the recognizer cannot take."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
            raise UnsupportedAudioError(
                "录音须为单声道16位线性PCM",
                path=str(path),
                channels=wav.getnchannels(),
                width=wav.getsampwidth(),
            )
        rate = wav.getframerate()
        if rate not in SUPPORTED_RATES:
            raise UnsupportedAudioError("录音采样率不受支持", path=str(path), sample_rate=rate)
        return rate, wav.readframes(wav.getnframes())


async def transcribe_pcm(
    pool: TranscriptionPool,
    pcm: bytes,
    sample_rate: int,
    *,
    grammar: Sequence[str] | None = None,
    chunk_seconds: float = 1.0,
) -> list[Final]:
    """Send PCM through the pool as fast as its queue allows; the finals."""
    stream = await pool.open_stream(sample_rate, grammar)
    step = int(sample_rate * chunk_seconds) * 2
    for offset in range(0, len(pcm), step):
        await stream.feed(pcm[offset : offset + step])
    return await stream.close()


async def transcribe_recording(
    pool: TranscriptionPool, legs: Mapping[str, Path], *, grammar: Sequence[str] | None = None
) -> CallTranscript:
    """Transcribe the legs of one recorded call concurrently, e.g. ``{"citizen": r, "agent": t}``."""
    audio = {leg: read_wav(path) for leg, path in legs.items()}
    results = await asyncio.gather(
        *(transcribe_pcm(pool, pcm, rate, grammar=grammar) for rate, pcm in audio.values())
    )
    utterances = [
        Utterance(leg, final) for leg, finals in zip(audio, results, strict=True) for final in finals
    ]
    utterances.sort(key=lambda u: u.start)
    seconds = {leg: len(pcm) / (2 * rate) for leg, (rate, pcm) in audio.items()}
    return CallTranscript(tuple(utterances), seconds)
