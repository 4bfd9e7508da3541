"""Settings of the recommendations service (``kleroterion settings recommendations``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from services.common.service import ServiceContext
from services.common.settings import ServiceSettings, setting


@dataclass(frozen=True)
class Settings(ServiceSettings):
    service: str = "recommendations"
    default_threshold_percent: int = setting(
        75, "Share of the non-abstaining support votes (percent) a recommendation needs to be "
            "adopted, unless the assembly sets its own.", minimum=1)
    answer_deadline_days: int = setting(
        90, "Days the receiving body has to answer after the handover, unless the handover "
            "names a deadline.", minimum=1)
    consumer_group: str = setting(
        "recommendations", "Consumer group for the events this service reads (panel_drawn, "
                           "seat_filled, member_withdrew, session_held, assembly_created, and the "
                           "evaluation's funnel_counted, distribution_computed, "
                           "process_summarised).")
    min_cell_size: int = setting(
        5, "Smallest count an evaluation report shows: a smaller non-zero cell (a feature "
           "value with fewer members, a questionnaire with fewer answers) is suppressed so no "
           "one can be recognised from it.", minimum=1)


def settings_of(ctx: ServiceContext) -> Settings:
    """The service's own settings in a context ``app.build`` made."""
    return cast(Settings, ctx.settings)
