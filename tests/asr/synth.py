"""Synthetic Korean speech for the ASR tests (espeak-ng + sox), and how well the model hears it.

The shipped WAVs in ``data/`` were made by ``python -m tests.asr.synth write``; ``python -m
tests.asr.synth measure`` reproduces the accuracy figures quoted in the tests. Both need
``espeak-ng`` and ``sox`` (Debian packages); the tests themselves only read the WAVs.

espeak-ng's Korean is far from what the Korean Vosk model was trained on: free-form it is
nearly unintelligible to it. What it recognizes reliably is a few distinct words with a small
grammar, and only with some voices and rates. Measured here with the 6-word grammar below:

- 7 voices x 100/140/180 wpm x 8/16 kHz, 0.5 s of lead silence: 113/252 words right (44.8 %);
  the same sweep with 0.3 s of lead silence: 208/252 (82.5 %) — the model is that sensitive;
- the voice and rate used here, ``ko+f4`` at 180 wpm: 72/72 (6 words x 8/16 kHz x 0.3/0.5/1.0 s
  lead x 20/100 ms chunks), so the tests assert these words;
- with a 50-word grammar (digits, cities, hotline words), 6 voices x 3 rates x 3 processings at
  8 kHz: 322/2700 (11.9 %).

Note the trap this found: a grammar passed through ``json.dumps``
with its default ``ensure_ascii=True`` reaches Vosk as ``\\uXXXX`` escapes, which Vosk does
not decode — every Korean (or Chinese) word is then "missing from the vocabulary" and the
grammar silently does nothing.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
GRAMMAR = ("넷", "아니요", "엘리베이터", "하나", "안녕하세요", "병원")
PHRASE = ("아니요", "병원", "엘리베이터", "안녕하세요")
VOICE, WPM = "ko+f4", 180
LEAD_SECONDS, TAIL_SECONDS = 0.5, 0.5
ROMAN = {
    "넷": "net",
    "아니요": "aniyo",
    "엘리베이터": "elibeiteo",
    "하나": "hana",
    "안녕하세요": "annyeong",
    "병원": "byeongwon",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is needed to make test audio: apt-get install -y espeak-ng sox")
    return path


def speak(text: str, rate: int, *, voice: str = VOICE, wpm: int = WPM, lead: float = LEAD_SECONDS) -> bytes:
    """16-bit mono PCM of ``text`` at ``rate`` Hz, with ``lead`` s of silence before it."""
    espeak = [_tool("espeak-ng"), "-v", voice, "-s", str(wpm), "--stdout", text]
    wav = subprocess.run(espeak, capture_output=True, check=True).stdout  # noqa: S603 (our arguments)
    sox = [
        _tool("sox"),
        "-t",
        "wav",
        "-",
        "-t",
        "raw",
        "-r",
        str(rate),
        "-b",
        "16",
        "-e",
        "signed",
        "-c",
        "1",
        "-",
    ]
    effects = ["pad", str(lead), str(TAIL_SECONDS)]
    return subprocess.run([*sox, *effects], input=wav, capture_output=True, check=True).stdout  # noqa: S603


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def wav_name(word: str, rate: int) -> str:
    return f"ko-{ROMAN[word]}-{rate // 1000}k.wav"


def write_all() -> None:
    DATA.mkdir(exist_ok=True)
    for rate in (8000, 16000):
        for word in GRAMMAR:
            write_wav(DATA / wav_name(word, rate), speak(word, rate), rate)
    write_wav(DATA / "ko-phrase-8k.wav", speak(" ".join(PHRASE), 8000, lead=1.0), 8000)


def measure(voices: list[str], wpms: list[int], grammar: tuple[str, ...]) -> tuple[int, int]:
    from asr.recognizer import RecognizerStream
    from asr.settings import packaged_model_path

    model = packaged_model_path()
    right = total = 0
    for voice, wpm, rate in itertools.product(voices, wpms, (8000, 16000)):
        hits = []
        for word in grammar:
            stream = RecognizerStream(model, rate, grammar)
            pcm = speak(word, rate, voice=voice, wpm=wpm)
            for offset in range(0, len(pcm), 3200):
                stream.accept(pcm[offset : offset + 3200])
            final = stream.finish()
            hits.append(final is not None and final.text == word)
        right += sum(hits)
        total += len(hits)
        print(json.dumps({"voice": voice, "wpm": wpm, "rate": rate, "right": sum(hits)}), flush=True)
    return right, total


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write_all()
    else:
        voices = ["ko", "ko+f2", "ko+f4", "ko+klatt", "ko+klatt2", "ko+m1", "ko+m3"]
        right, total = measure(voices, [100, 140, 180], GRAMMAR)
        print(f"{right}/{total} = {right / total:.3f}")
