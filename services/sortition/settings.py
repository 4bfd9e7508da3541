"""Settings of the sortition service (``kleroterion settings sortition`` lists them)."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import ServiceSettings, setting


@dataclass(frozen=True)
class Settings(ServiceSettings):
    service: str = "sortition"
    host: str = setting("0.0.0.0", "Address the gRPC server listens on.")
    port: int = setting(50051, "gRPC port; 0 picks a free port (tests).", minimum=0)
    max_workers: int = setting(
        8, "Threads serving calls; each running solve holds one.", minimum=1)
    grace_seconds: int = setting(
        20, "On SIGTERM, seconds running calls get to finish before they are cancelled.",
        minimum=0)
    lottery_size: int = setting(
        1000, "Default m: panels in the published uniform lottery.", minimum=1)
    rounding_seconds: int = setting(
        10, "Time the lottery rounding may spend lowering the largest deviation.", minimum=0)
    max_message_mb: int = setting(
        64, "Largest request/response in MiB (a national pool with its lottery is large).",
        minimum=4)
    feasibility_seconds: int = setting(
        30, "Time limit of each integer program of a feasibility diagnosis.", minimum=1)
