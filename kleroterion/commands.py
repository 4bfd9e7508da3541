"""Platform subcommands: ``plugins`` and ``settings``."""
from __future__ import annotations

import argparse
import json

from kleroterion.cli import Subparsers
from kleroterion.service_table import SERVICES
from kleroterion.service_table import service as service_entry
from services.common.plugins import PluginHost
from services.common.settings import ServiceSettings


def _plugins(args: argparse.Namespace) -> int:
    host = PluginHost.from_settings(ServiceSettings.from_env())
    rows = host.describe()
    if args.json:
        print(json.dumps([{"name": r.name, "module": r.module, "version": r.version,
                           "enabled": r.enabled, "hooks": list(r.hooks)} for r in rows], indent=2))
        return 0
    print(f"{'plugin':<20} {'enabled':<8} {'version':<9} hooks")
    for r in rows:
        print(f"{r.name:<20} {'yes' if r.enabled else 'no':<8} {r.version:<9} {', '.join(r.hooks)}")
    formats = host.formats()
    if formats:
        print("\nassembly formats: " + ", ".join(
            f"{f.name} ({f.title.get('da', f.name)}, {f.min_seats}-{f.max_seats} seats, "
            f"≥{f.min_hours:g} h)" for f in formats.values()))
    channels = host.channels()
    if channels:
        print("invitation channels: " + ", ".join(channels))
    return 0


def _settings_class(service: str) -> type[ServiceSettings]:
    return SERVICES[service].settings_class() if service in SERVICES else ServiceSettings


def _settings(args: argparse.Namespace) -> int:
    cls = _settings_class(args.service)
    settings = cls.from_env(service=args.service)
    for variable, value, doc in settings.documented():
        print(f"{variable}={value}\n    {doc}")
    return 0


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser("plugins", help="list installed plugins and which are enabled here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_plugins)

    p = sub.add_parser("settings", help="show a service's settings and what they are for")
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(func=_settings)

    add_token_parser(sub)


def _issue_token(args: argparse.Namespace) -> int:
    """Issue an operator token for a service; printed once, stored only as a hash."""
    module = service_entry(args.service).module("app")
    settings = _settings_class(args.service).from_env(service=args.service)
    ctx = module.build(settings)
    try:
        print(ctx.tokens.issue(args.subject, args.role))
    finally:
        ctx.close()
    return 0


def add_token_parser(sub: Subparsers) -> None:
    p = sub.add_parser("token", help="issue an operator API token (shown once)")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--role", required=True)
    p.add_argument("--subject", required=True, help="who the token is for (an operator's id)")
    p.set_defaults(func=_issue_token)
