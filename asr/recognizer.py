"""The Vosk adapter: one model per process, one recognizer stream per call leg.

A Vosk model is large (the Korean test model holds ~530 MB and loads in ~2 s; the Mandarin
server model several GB), so each worker process loads it once (:func:`load_model`, a
per-process cache) and every stream in that process shares it. A stream takes 16-bit signed
little-endian mono PCM at 8 kHz (telephony, Asterisk's ``slin``) or 16 kHz, in chunks of any
size, and yields partial hypotheses and final segments with word timings.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vosk

from asr.errors import GrammarError, UnsupportedAudioError
from asr.transcript import Event, Final, Partial

SUPPORTED_RATES = (8000, 16000)
SAMPLE_WIDTH = 2  # bytes: signed 16-bit linear

_lock = threading.Lock()
_models: dict[Path, vosk.Model] = {}
_load_count = 0
_load_seconds = 0.0


def load_model(path: Path) -> vosk.Model:
    """The model at ``path``, loaded on first use in this process and shared afterwards."""
    global _load_count, _load_seconds
    key = path.resolve()
    with _lock:
        model = _models.get(key)
        if model is None:
            vosk.SetLogLevel(-1)
            started = time.perf_counter()
            model = vosk.Model(str(key))
            _load_seconds += time.perf_counter() - started
            _load_count += 1
            _models[key] = model
        return model


def model_loads() -> int:
    """How many models this process has loaded (one per distinct path, ever)."""
    return _load_count


def model_load_seconds() -> float:
    return _load_seconds


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the model's front end expects (``conf/mfcc.conf``, Kaldi's defaults otherwise)."""

    sample_rate: int = 16000
    allow_upsample: bool = False
    allow_downsample: bool = False

    @classmethod
    def of_model(cls, model_path: Path) -> FeatureConfig:
        conf = model_path / "conf" / "mfcc.conf"
        if not conf.is_file():
            return cls()
        options = dict(re.findall(r"^--([\w-]+)=(\S+)", conf.read_text(encoding="utf-8"), re.MULTILINE))
        return cls(
            sample_rate=int(float(options.get("sample-frequency", "16000"))),
            allow_upsample=options.get("allow-upsample", "false").lower() == "true",
            allow_downsample=options.get("allow-downsample", "false").lower() == "true",
        )

    def takes(self, rate: int) -> bool:
        """Whether the model's front end accepts ``rate`` itself (Kaldi resamples internally)."""
        if rate == self.sample_rate:
            return True
        return self.allow_upsample if rate < self.sample_rate else self.allow_downsample


class LinearResampler:
    """Streaming linear-interpolation resampler for 16-bit mono PCM, used only when the model's
    front end would refuse the input rate (Kaldi aborts the process on such a mismatch)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self._step = rate_in / rate_out
        self._pos = 0.0
        self._prev: int | None = None

    def process(self, pcm: bytes) -> bytes:
        samples = _samples(pcm)
        buf = samples if self._prev is None else array("h", [self._prev]) + samples
        out = array("h")
        pos, step, last = self._pos, self._step, len(buf) - 1
        while pos < last:
            i = int(pos)
            frac = pos - i
            out.append(round(buf[i] + (buf[i + 1] - buf[i]) * frac))
            pos += step
        if last >= 0:
            self._prev = buf[last]
            self._pos = pos - last
        return _pcm(out)


def _samples(pcm: bytes) -> array[int]:
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _pcm(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def grammar_json(words: Sequence[str]) -> str:
    """The grammar as Vosk parses it. Vosk's JSON reader does not decode ``\\uXXXX`` escapes, so
    ``json.dumps``'s default ASCII output silently turns every Chinese or Korean word into an
    unknown one (and the grammar into nothing): non-ASCII must be written as UTF-8."""
    return json.dumps(list(words), ensure_ascii=False)


class RecognizerStream:
    """One leg of one call: feed PCM chunks, get partials and finals (with word timings)."""

    def __init__(
        self,
        model_path: Path,
        sample_rate: int,
        grammar: Sequence[str] | None = None,
        *,
        words: bool = True,
    ) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise UnsupportedAudioError(
                f"只支持 {'/'.join(str(r) for r in SUPPORTED_RATES)} Hz 的音频", sample_rate=sample_rate
            )
        model = load_model(model_path)
        features = FeatureConfig.of_model(model_path)
        self.sample_rate = sample_rate
        self._resampler: LinearResampler | None = None
        decode_rate = sample_rate
        if not features.takes(sample_rate):
            self._resampler = LinearResampler(sample_rate, features.sample_rate)
            decode_rate = features.sample_rate
        if grammar:
            unknown = [w for w in grammar if w != "[unk]" and model.vosk_model_find_word(w) < 0]
            if unknown:
                raise GrammarError("语法中有模型词表之外的词", words=unknown)
            self._recognizer = vosk.KaldiRecognizer(model, float(decode_rate), grammar_json(grammar))
        else:
            self._recognizer = vosk.KaldiRecognizer(model, float(decode_rate))
        self._recognizer.SetWords(words)
        self._last_partial = ""
        self._pending = b""  # an odd trailing byte, kept until its sample is complete
        self.audio_bytes = 0
        self.finished = False

    @property
    def resampling(self) -> bool:
        """True when this stream resamples in Python (the model's front end refused the rate)."""
        return self._resampler is not None

    @property
    def audio_seconds(self) -> float:
        return self.audio_bytes / (SAMPLE_WIDTH * self.sample_rate)

    def accept(self, pcm: bytes) -> list[Event]:
        """Decode ``pcm`` (any length); return the events it produced (0, 1 partial, or 1 final)."""
        if self.finished:
            raise UnsupportedAudioError("识别流已结束")
        self.audio_bytes += len(pcm)
        data = self._pending + pcm
        cut = len(data) - len(data) % SAMPLE_WIDTH
        data, self._pending = data[:cut], data[cut:]
        if not data:
            return []
        if self._resampler is not None:
            data = self._resampler.process(data)
        if self._recognizer.AcceptWaveform(data):
            self._last_partial = ""
            final = _final(self._recognizer.Result())
            return [final] if final.text else []
        partial = str(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        if partial and partial != self._last_partial:
            self._last_partial = partial
            return [Partial(partial)]
        return []

    def finish(self) -> Final | None:
        """Flush the decoder at the end of the stream; the last final, if it holds words."""
        if self.finished:
            return None
        self.finished = True
        final = _final(self._recognizer.FinalResult())
        return final if final.text else None


def _final(raw: str) -> Final:
    result: dict[str, Any] = json.loads(raw)
    return Final.from_vosk(result)
