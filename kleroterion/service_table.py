"""The platform's services by name: the one place that knows which services exist.

``services/common`` knows no service; the command line, the launcher and the operators'
tools find a service's settings, application and consumers through this table.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from services.common.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceEntry:
    """Where a service lives and how it is run."""

    name: str
    kind: str  # "flask" (waitress + consumers) or "grpc"
    package: str

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def settings_class(self) -> type[ServiceSettings]:
        cls: type[ServiceSettings] = self.module("settings").Settings
        return cls

    def settings(self, **overrides: object) -> ServiceSettings:
        return self.settings_class().from_env(None, **overrides)


SERVICES: dict[str, ServiceEntry] = {
    "registry": ServiceEntry("registry", "flask", "services.registry"),
    "sortition": ServiceEntry("sortition", "grpc", "services.sortition"),
    "sessions": ServiceEntry("sessions", "flask", "services.sessions"),
    "recommendations": ServiceEntry("recommendations", "flask", "services.recommendations"),
}
FLASK_SERVICES = tuple(name for name, entry in SERVICES.items() if entry.kind == "flask")


def service(name: str) -> ServiceEntry:
    try:
        return SERVICES[name]
    except KeyError:
        raise ValueError(f"service: unknown service {name!r}; one of {', '.join(SERVICES)}") \
            from None
