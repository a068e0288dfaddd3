"""Every failure of the speech-recognition adapter, each with a stable ``error_id``."""

from __future__ import annotations

from typing import Any


class AsrError(Exception):
    """Base of all ASR errors."""

    error_id = "asr-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        if not self.details:
            return self.message
        extra = ", ".join(f"{key}={value!r}" for key, value in sorted(self.details.items()))
        return f"{self.message} ({extra})"


class ModelNotFoundError(AsrError):
    """The configured model directory does not exist or is not a Vosk model."""

    error_id = "asr-model-not-found"


class UnsupportedAudioError(AsrError):
    """Audio in a format the recognizer does not take (rate, width, channels)."""

    error_id = "asr-unsupported-audio"


class GrammarError(AsrError):
    """A grammar names words the model does not know."""

    error_id = "asr-grammar-unknown-words"


class PoolClosedError(AsrError):
    """Audio was offered to a pool that is stopping or stopped."""

    error_id = "asr-pool-closed"


class WorkerDiedError(AsrError):
    """A worker process exited while streams were open on it."""

    error_id = "asr-worker-died"


class StreamClosedError(AsrError):
    """Audio was fed to a stream after it was closed."""

    error_id = "asr-stream-closed"


class AudioSocketProtocolError(AsrError):
    """Asterisk sent something that is not AudioSocket (bad first frame, oversize, …)."""

    error_id = "audiosocket-protocol-error"
