"""The sessions service's settings (``kleroterion settings sessions`` prints them)."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.service import ServiceContext
from services.common.settings import ServiceSettings, setting


@dataclass(frozen=True)
class Settings(ServiceSettings):
    service: str = "sessions"
    default_table_size: int = setting(6, "Seats per table in group work unless the agenda item "
                                         "says otherwise.", minimum=2)
    timezone: str = setting("Europe/Copenhagen", "Time zone of session times given without one "
                                                 "and of the public programme.")
    public_base_url: str = setting("", "Public address of this service, used in calendar UIDs' "
                                       "domain; empty means the request's host.")


def settings_of(ctx: ServiceContext) -> Settings:
    """The sessions settings ``ctx`` was built with (ServiceContext holds them as the common
    type)."""
    settings = ctx.settings
    if not isinstance(settings, Settings):
        raise TypeError(f"settings: the sessions service was built with {type(settings)!r}")
    return settings
