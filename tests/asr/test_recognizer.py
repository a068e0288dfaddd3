"""The Vosk adapter with the real (Korean) model: rates, chunking, partials, timings, grammar."""

from __future__ import annotations

import itertools
import json
import math
from array import array
from pathlib import Path

import pytest

from asr.errors import GrammarError, UnsupportedAudioError
from asr.recognizer import (
    FeatureConfig,
    LinearResampler,
    RecognizerStream,
    grammar_json,
    load_model,
    model_loads,
)
from asr.transcript import Event, Final, Partial
from tests.asr.conftest import read_pcm, word_pcm
from tests.asr.synth import LEAD_SECONDS, PHRASE

# The words and the voice were chosen by measurement (tests/asr/synth.py): with this 6-word
# grammar, espeak-ng's ko+f4 at 180 wpm was recognized 72/72 times (6 words x 8/16 kHz x
# 0.3/0.5/1.0 s of lead silence x 20/100 ms chunks).
RELIABLE = ("넷", "아니요", "엘리베이터", "하나", "안녕하세요", "병원")


def decode(stream: RecognizerStream, pcm: bytes, chunk: int) -> list[Event]:
    events: list[Event] = []
    for offset in range(0, len(pcm), chunk):
        events += stream.accept(pcm[offset : offset + chunk])
    last = stream.finish()
    return [*events, last] if last else events


def finals(events: list[Event]) -> list[Final]:
    return [e for e in events if isinstance(e, Final)]


def test_given_the_model_loaded_twice_then_one_load_in_this_process(model_path: Path) -> None:
    first = load_model(model_path)
    loads = model_loads()
    assert load_model(model_path) is first
    assert load_model(model_path / ".") is first
    assert model_loads() == loads == 1


def test_the_packaged_model_takes_8_khz_by_upsampling(model_path: Path) -> None:
    features = FeatureConfig.of_model(model_path)
    assert features.sample_rate == 16000
    assert features.takes(8000) and features.takes(16000)


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("word", RELIABLE)
def test_given_a_word_from_the_grammar_then_recognized(
    model_path: Path, grammar: tuple[str, ...], rate: int, word: str
) -> None:
    stream = RecognizerStream(model_path, rate, grammar)
    got = finals(decode(stream, word_pcm(word, rate), chunk=rate // 5))  # 100 ms chunks
    assert [f.text for f in got] == [word]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_given_lead_silence_then_word_timings_in_stream_seconds(
    model_path: Path, grammar: tuple[str, ...], rate: int
) -> None:
    stream = RecognizerStream(model_path, rate, grammar)
    [final] = finals(decode(stream, word_pcm("엘리베이터", rate), chunk=rate // 5))
    [word] = final.words
    assert abs(word.start - LEAD_SECONDS) < 0.15
    assert word.start < word.end <= stream.audio_seconds
    assert 0.0 < word.confidence <= 1.0


def test_given_8_and_16_khz_of_the_same_speech_then_same_timings(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    timings = {}
    for rate in (8000, 16000):
        [final] = finals(
            decode(RecognizerStream(model_path, rate, grammar), word_pcm("안녕하세요", rate), rate)
        )
        timings[rate] = (final.words[0].start, final.words[0].end)
    assert timings[8000] == pytest.approx(timings[16000], abs=0.1)


def test_given_a_phrase_fed_in_100ms_chunks_then_partials_grow_before_the_final(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    rate, pcm = read_pcm("ko-phrase-8k.wav")
    events = decode(RecognizerStream(model_path, rate, grammar), pcm, chunk=1600)
    partials = [e.text for e in events if isinstance(e, Partial)]
    [final] = finals(events)
    assert len(partials) >= 3
    assert partials[0].split()[0] == final.text.split()[0] == PHRASE[0]
    assert all(a != b for a, b in itertools.pairwise(partials))  # only changes
    assert events[-1] == final
    starts = [w.start for w in final.words]
    assert starts == sorted(starts) and starts[0] == pytest.approx(1.0, abs=0.15)  # 1.0 s lead


@pytest.mark.parametrize("chunk", [333, 4001, 10**7])
def test_given_odd_chunk_sizes_then_same_final_as_20ms_frames(
    model_path: Path, grammar: tuple[str, ...], chunk: int
) -> None:
    pcm = word_pcm("병원", 8000)
    reference = finals(decode(RecognizerStream(model_path, 8000, grammar), pcm, 320))
    got = finals(decode(RecognizerStream(model_path, 8000, grammar), pcm, chunk))
    assert [f.text for f in got] == [f.text for f in reference] == ["병원"]
    assert got[0].words[0].start == pytest.approx(reference[0].words[0].start, abs=0.05)


def test_given_no_grammar_then_free_form_words_with_timings(model_path: Path) -> None:
    # Free-form, espeak's Korean is mostly misheard (CER ~0.9): assert the shape, not the words.
    stream = RecognizerStream(model_path, 8000)
    got = finals(decode(stream, read_pcm("ko-phrase-8k.wav")[1], 3200))
    words = [w for f in got for w in f.words]
    assert words and all(w.text and w.start < w.end for w in words)
    assert " ".join(f.text for f in got).split() == [w.text for w in words]


def test_given_silence_then_no_final(model_path: Path) -> None:
    stream = RecognizerStream(model_path, 8000)
    assert decode(stream, bytes(8000 * 2 * 2), 3200) == []
    assert stream.audio_seconds == 2.0


def test_grammar_is_sent_as_utf8_not_json_escapes() -> None:
    # Vosk's JSON reader does not decode \\uXXXX: escaped words would all be "unknown".
    assert grammar_json(["아니요", "下水道"]) == '["아니요", "下水道"]'
    assert "\\u" in json.dumps(["아니요"])


def test_given_a_word_outside_the_vocabulary_then_grammar_error(model_path: Path) -> None:
    with pytest.raises(GrammarError) as caught:
        RecognizerStream(model_path, 8000, ["아니요", "下水道"])
    assert caught.value.details["words"] == ["下水道"]
    assert caught.value.error_id == "asr-grammar-unknown-words"


@pytest.mark.parametrize("rate", [11025, 44100])
def test_given_an_unsupported_rate_then_refused(model_path: Path, rate: int) -> None:
    with pytest.raises(UnsupportedAudioError):
        RecognizerStream(model_path, rate)


def _sine(rate: int, hz: float, seconds: float) -> array[int]:
    return array(
        "h", (round(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    )


def test_resampler_doubles_8k_to_16k_and_keeps_the_waveform() -> None:
    source = _sine(8000, 440, 0.5)
    up = array("h")
    up.frombytes(LinearResampler(8000, 16000).process(source.tobytes()))
    expected = _sine(16000, 440, 0.5)
    assert abs(len(up) - len(expected)) <= 2
    error = max(abs(a - b) for a, b in zip(up, expected, strict=False))
    assert error < 8000 * 0.05


def test_resampler_streamed_in_chunks_equals_one_pass() -> None:
    pcm = _sine(8000, 300, 0.3).tobytes()
    whole = LinearResampler(8000, 16000).process(pcm)
    streamed = LinearResampler(8000, 16000)
    parts = b"".join(streamed.process(pcm[i : i + 322]) for i in range(0, len(pcm), 322))
    assert parts == whole


def test_given_8k_audio_resampled_in_python_then_16k_stream_hears_the_same_word(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    # The path taken when a model's front end refuses 8 kHz: our resampler, then a 16 kHz stream.
    upsampled = LinearResampler(8000, 16000).process(word_pcm("아니요", 8000))
    [final] = finals(decode(RecognizerStream(model_path, 16000, grammar), upsampled, 3200))
    assert final.text == "아니요"
