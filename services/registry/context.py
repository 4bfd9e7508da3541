"""What the registry keeps beside the common service context: the sealer of personal data
and the channel dispatcher (which keeps the channels, approved templates and assemblies it
has read)."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.service import ServiceContext, current_context
from services.registry.crypto import Sealer
from services.registry.dispatch import Dispatcher
from services.registry.settings import Settings


@dataclass
class RegistryContext(ServiceContext):
    """The common service context plus the registry's own long-lived parts."""

    settings: Settings
    sealer: Sealer
    dispatcher: Dispatcher


def current() -> RegistryContext:
    """The registry context of the application handling the current request."""
    ctx = current_context()
    if not isinstance(ctx, RegistryContext):
        raise RuntimeError(f"the current application is not the registry ({type(ctx).__name__})")
    return ctx
