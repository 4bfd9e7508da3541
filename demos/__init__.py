"""``kleroterion demo``: a whole regional assembly on embedded defaults, in one process.

The registry, sortition, sessions and recommendations services run with their real code
(Flask apps through test clients, the sortition gRPC server on a loopback port) on one
in-process bus, each with its own SQLite database under the output folder. A synthetic
population of Region Hovedstaden is invited through the Digital Post and letter channels,
volunteers sign up, a leximin lottery draws the panel with a verifiable seed, the panel
meets, votes on recommendations, and the final report and the transparency page are written
to the output folder. The steps are in ``assembly.py``.
"""
from __future__ import annotations

import pathlib

from demos.assembly import run_assembly
from kleroterion.cli import Subparsers


def run(out: pathlib.Path, fmt_name: str = "assembly", *, population: int = 100_000,
        invitations: int = 5_000, response: float = 0.15, seats: int = 36, seed: int = 2025,
        draw_seed: str | None = None) -> int:
    run_assembly(pathlib.Path(out), population=population, invitations=invitations,
                 response=response, seats=seats, fmt_name=fmt_name, seed=seed,
                 draw_seed=draw_seed)
    return 0


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="run a whole assembly on embedded defaults")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/demo"),
                   help="folder for the report, the transparency page and the data")
    p.add_argument("--format", default="assembly", help="assembly format plugin to use")
    p.add_argument("--population", type=int, default=100_000, help="synthetic adults")
    p.add_argument("--invitations", type=int, default=5_000, help="invitations to send")
    p.add_argument("--seats", type=int, default=36, help="panel size")
    p.add_argument("--seed", type=int, default=2025,
                   help="seed of the synthetic population and its behaviour")
    p.add_argument("--draw-seed", help="public seed for the panel draw (default: fresh)")
    p.set_defaults(func=lambda args: run(args.out, args.format, population=args.population,
                                         invitations=args.invitations, seats=args.seats,
                                         seed=args.seed, draw_seed=args.draw_seed))
