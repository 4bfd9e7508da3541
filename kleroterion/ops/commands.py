"""``kleroterion ops``: operate a region's release (plugins, rollout, lag, topics)."""
from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable

from kleroterion.cli import Subparsers
from kleroterion.ops import kafka_ops, kube
from kleroterion.ops.topics import all_topics

Command = Callable[[argparse.Namespace], int]


def _kube_errors(func: Command) -> Command:
    """An API error becomes a one-line message (the CLI prints ValueErrors without a
    traceback): which object, which status, what the API server said."""
    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        from kubernetes.client.exceptions import ApiException

        try:
            return func(args)
        except ApiException as exc:
            detail = exc.reason or ""
            try:
                # No body (None) or one that is not a JSON object keeps the reason.
                detail = json.loads(exc.body or "").get("message", detail)
            except (TypeError, ValueError, AttributeError):
                pass
            raise kube.OpsError("kubernetes", f"HTTP {exc.status}: {detail}") from None
    return wrapper


def _release(args: argparse.Namespace) -> kube.Release:
    if not args.release:
        raise ValueError("--release: the Helm release name is required (e.g. hovedstaden)")
    core, apps = kube.load_clients(args.kubeconfig, args.context)
    namespace = args.namespace or kube.default_namespace(args.kubeconfig, args.context)
    return kube.Release(core, apps, namespace, args.release)


@_kube_errors
def _plugins_list(args: argparse.Namespace) -> int:
    release = _release(args)
    data = release.region_file()
    enabled = list(data.get("enabled_plugins", []))
    if args.json:
        print(json.dumps({"region": data.get("region", ""), "enabled_plugins": enabled,
                          "channel_order": list(data.get("channel_order", []))}, indent=2))
        return 0
    print(f"region {data.get('region', '?')} (release {release.release}, namespace "
          f"{release.namespace})")
    for name in enabled:
        settings = data.get("plugins", {}).get(name, {})
        print(f"  {name}" + (f"  ({', '.join(sorted(settings))})" if settings else ""))
    return 0


def _plugins_set(args: argparse.Namespace, enabled: bool) -> int:
    return _kube_errors(lambda a: _set(a, enabled))(args)


def _set(args: argparse.Namespace, enabled: bool) -> int:
    release = _release(args)
    changed = release.set_plugin(args.name, enabled, restart=not args.no_restart)
    verb = "enabled" if enabled else "disabled"
    if not changed:
        print(f"{args.name} is already {verb} in release {release.release}")
    else:
        restart = "" if args.no_restart else "; rolling restart of the Deployments started"
        print(f"{args.name} {verb} in release {release.release}{restart}")
    return 0


@_kube_errors
def _status(args: argparse.Namespace) -> int:
    rows = _release(args).status()
    if args.json:
        print(json.dumps([{"deployment": r.name, "service": r.component, "desired": r.desired,
                           "updated": r.updated, "ready": r.ready, "available": r.available,
                           "rolled_out": r.rolled_out} for r in rows], indent=2))
    else:
        print(f"{'deployment':<40} {'desired':>7} {'updated':>7} {'ready':>5} "
              f"{'available':>9}  state")
        for r in rows:
            state = "rolled out" if r.rolled_out else "rolling"
            print(f"{r.name:<40} {r.desired:>7} {r.updated:>7} {r.ready:>5} "
                  f"{r.available:>9}  {state}")
    return 0 if all(r.rolled_out for r in rows) or not args.wait_check else 1


def _lag(args: argparse.Namespace) -> int:
    config = kafka_ops.kafka_config(bootstrap=args.bootstrap)
    rows = kafka_ops.consumer_lag(config, args.group or None)
    if args.json:
        print(json.dumps([{"group": r.group, "topic": r.topic, "partition": r.partition,
                           "committed": r.committed, "end": r.end, "lag": r.lag} for r in rows],
                         indent=2))
        return 0
    print(f"{'group':<24} {'topic':<50} {'part':>4} {'committed':>10} {'end':>10} {'lag':>8}")
    for r in rows:
        print(f"{r.group:<24} {r.topic:<50} {r.partition:>4} {r.committed:>10} {r.end:>10} "
              f"{r.lag:>8}")
    for group, total in kafka_ops.lag_by_group(rows).items():
        print(f"total lag {group}: {total}")
    return 0


def _create_topics(args: argparse.Namespace) -> int:
    config = kafka_ops.kafka_config(bootstrap=args.bootstrap)
    topic_config: dict[str, str] = {}
    for item in args.config or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--config: expected KEY=VALUE, got {item!r}")
        topic_config[key] = value
    from services.common.settings import ServiceSettings

    settings = ServiceSettings.from_env()
    topics = args.topics or all_topics(args.prefix or settings.topic_prefix)
    partitions = args.partitions or settings.topic_partitions
    created, existing = kafka_ops.create_topics(config, topics, partitions,
                                                args.replication_factor, topic_config)
    for topic in created:
        print(f"created {topic} ({partitions} partitions)")
    for topic in existing:
        print(f"exists  {topic}")
    return 0


def _topics(args: argparse.Namespace) -> int:
    from services.common import events
    from services.common.settings import ServiceSettings

    if args.values:
        # The chart's topics.events block (deploy/helm/kleroterion/values.yaml).
        by_owner: dict[str, list[str]] = {}
        for event_type, owner in events.EVENT_TYPES.items():
            by_owner.setdefault(owner, []).append(event_type)
        print("  events:")
        for owner, types in by_owner.items():
            print(f"    {owner}: [{', '.join(types)}]")
        return 0

    for topic in all_topics(args.prefix or ServiceSettings.from_env().topic_prefix):
        print(topic)
    return 0


def _add_release_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--namespace", "-n", help="the release's namespace (default: the "
                                             "kubeconfig context's namespace)")
    p.add_argument("--release", "-r", required=True, help="the Helm release name")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, "
                                        "or the pod's service account)")
    p.add_argument("--context", help="kubeconfig context")


def _help(parser: argparse.ArgumentParser) -> Command:
    """A group given no subcommand prints its help and exits 2."""

    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def add_parser(sub: Subparsers) -> None:
    ops = sub.add_parser("ops", help="operate a region's release on Kubernetes and Kafka")
    ops_sub = ops.add_subparsers(dest="ops_command", metavar="OPS_COMMAND")
    ops.set_defaults(func=_help(ops))

    plugins = ops_sub.add_parser("plugins", help="the release's enabled plugins (live ConfigMap)")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", metavar="ACTION")
    plugins.set_defaults(func=_help(plugins))

    p = plugins_sub.add_parser("list", help="enabled plugins from the live region.toml")
    _add_release_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_plugins_list)
    for action, enabled in (("enable", True), ("disable", False)):
        p = plugins_sub.add_parser(action, help=f"{action} a plugin in region.toml and roll "
                                                f"the Deployments")
        p.add_argument("name", help="plugin name (entry-point name)")
        _add_release_args(p)
        p.add_argument("--no-restart", action="store_true",
                       help="only patch the ConfigMap; pods pick it up at their next restart")
        p.set_defaults(func=lambda args, e=enabled: _plugins_set(args, e))

    p = ops_sub.add_parser("status", help="rollout status of every Deployment of the release")
    _add_release_args(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--check", dest="wait_check", action="store_true",
                   help="exit 1 unless every Deployment is rolled out")
    p.set_defaults(func=_status)

    p = ops_sub.add_parser("lag", help="consumer lag per group (end minus committed offsets)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: KLERO_KAFKA_BOOTSTRAP)")
    p.add_argument("--group", action="append", help="consumer group (repeatable; default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lag)

    p = ops_sub.add_parser("create-topics", help="create the release's topics that are missing")
    p.add_argument("topics", nargs="*", help="topic names (default: every event topic and "
                                             "dead-letter topic under --prefix)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: KLERO_KAFKA_BOOTSTRAP)")
    p.add_argument("--prefix", help="topic prefix (default: KLERO_TOPIC_PREFIX)")
    p.add_argument("--partitions", type=int, help="partitions (default: KLERO_TOPIC_PARTITIONS)")
    p.add_argument("--replication-factor", type=int, default=-1,
                   help="replicas per partition (default: the broker's default)")
    p.add_argument("--config", action="append", metavar="KEY=VALUE", help="topic config")
    p.set_defaults(func=_create_topics)

    p = ops_sub.add_parser("topics", help="print the topic list (event and dead-letter topics)")
    p.add_argument("--prefix", help="topic prefix (default: KLERO_TOPIC_PREFIX)")
    p.add_argument("--values", action="store_true",
                   help="print the chart's topics.events block for values.yaml instead")
    p.set_defaults(func=_topics)

