"""The one place a face engine is built: which model, on which device, with how many CPU threads.

Loading imports torch and reads the networks' weights (seconds), so callers run it off the GUI thread.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from faceguard.app.settings import KioskSettings
from faceguard.vision.spec import ModelSpec, get_model_spec

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline


def load_pipeline(model: str | ModelSpec, device: str = "auto", threads: int | None = None) -> FacePipeline:
    """A newly loaded engine for ``model`` (a name or spec) on ``device``, capped at ``threads``."""
    from faceguard.vision.pipeline import FacePipeline  # torch loads here, not when this module is imported

    return FacePipeline.load(device=device, threads=threads, model=model)


def settings_pipeline(settings: KioskSettings) -> FacePipeline:
    """The engine the kiosk settings choose."""
    return load_pipeline(settings.model, settings.device, settings.threads)


def shared_pipeline(model: str | ModelSpec, device: str = "auto", threads: int | None = None) -> FacePipeline:
    """The engine for ``model``, loaded once per process for each device and thread count (a command-line
    run does one job; a process that runs many, such as the tests, reuses what it loaded).

    Keyed by the spec, not the name: a model exported again under its name is a new spec and loads anew.
    The thread count is applied on every call, since another engine may have set its own meanwhile.
    """
    from faceguard.vision.device import set_threads

    set_threads(threads)
    return _loaded(get_model_spec(model) if isinstance(model, str) else model, device, threads)


@functools.lru_cache(maxsize=4)
def _loaded(spec: ModelSpec, device: str, threads: int | None) -> FacePipeline:
    return load_pipeline(spec, device, threads)
