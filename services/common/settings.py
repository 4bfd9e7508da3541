"""Settings from environment variables, one object per service.

Every setting has a documented default so that one process runs on embedded defaults
(SQLite, the in-process bus). A bad value fails at start-up with a message that names the
variable, because a service that starts half-configured fails later in a worse place.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

PREFIX = "KLERO_"
T = TypeVar("T")


class SettingsError(ValueError):
    """A setting's value is unusable; ``variable`` is the environment variable to fix."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_PARSERS: dict[type, Callable[[str], object]] = {
    bool: _parse_bool,
    int: _parse_int,
    str: str,
    tuple: _parse_list,
}


def setting(default: T, doc: str, *, env: str | None = None, choices: tuple[str, ...] = (),
            minimum: int | None = None, secret: bool = False) -> T:
    """Declare a setting: its default, what it is for, and how to check it."""
    return field(default=default, metadata={"doc": doc, "env": env, "choices": choices,
                                            "minimum": minimum, "secret": secret})


def variable_name(service: str, f: dataclasses.Field[Any]) -> str:
    env: str | None = f.metadata.get("env")
    return env or f"{PREFIX}{service.upper()}_{f.name.upper()}"


@dataclass(frozen=True)
class ServiceSettings:
    """Settings every service has. Subclasses add their own fields with ``setting``."""

    service: str = "common"
    region: str = setting("local", "Region whose release this is (e.g. hovedstaden, national).",
                          env="KLERO_REGION")
    data_dir: str = setting(".kleroterion", "Folder for embedded data (SQLite files, outboxes).",
                            env="KLERO_DATA_DIR")
    database_url: str = setting(
        "", "SQLAlchemy URL of the service's own database; empty means a SQLite file in "
            "KLERO_DATA_DIR named after the service.")
    bus: str = setting("inprocess", "Event bus: 'inprocess' (embedded) or 'kafka'.",
                       env="KLERO_BUS", choices=("inprocess", "kafka"))
    kafka_bootstrap: tuple[str, ...] = setting(
        ("127.0.0.1:9092",), "Kafka bootstrap servers, comma separated.",
        env="KLERO_KAFKA_BOOTSTRAP")
    kafka_security_protocol: str = setting(
        "PLAINTEXT", "Kafka security protocol.", env="KLERO_KAFKA_SECURITY_PROTOCOL",
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"))
    kafka_sasl_mechanism: str = setting(
        "", "SASL mechanism (PLAIN, SCRAM-SHA-512) when SASL is on.",
        env="KLERO_KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str = setting("", "SASL user name.", env="KLERO_KAFKA_SASL_USERNAME")
    kafka_sasl_password: str = setting("", "SASL password.", env="KLERO_KAFKA_SASL_PASSWORD",
                                       secret=True)
    kafka_ssl_cafile: str = setting("", "CA bundle for Kafka TLS.", env="KLERO_KAFKA_SSL_CAFILE")
    topic_prefix: str = setting("kleroterion", "First part of every topic name.",
                                env="KLERO_TOPIC_PREFIX")
    topic_partitions: int = setting(6, "Partitions for topics the service creates.",
                                    env="KLERO_TOPIC_PARTITIONS", minimum=1)
    max_delivery_attempts: int = setting(
        3, "Attempts at handling an event before it goes to the dead-letter topic.",
        env="KLERO_MAX_DELIVERY_ATTEMPTS", minimum=1)
    plugins: tuple[str, ...] = setting(
        (), "Plugins enabled in this region, comma separated; empty means the region file's "
            "list, or every installed plugin.", env="KLERO_PLUGINS")
    region_config: str = setting("", "Path of the region's TOML file (enabled plugins and their "
                                     "settings).", env="KLERO_REGION_CONFIG")
    log_level: str = setting("INFO", "Log level.", env="KLERO_LOG_LEVEL",
                             choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format: str = setting("json", "Log format: json (for collectors) or text (for people).",
                              env="KLERO_LOG_FORMAT", choices=("json", "text"))
    max_request_bytes: int = setting(
        2 * 1024 * 1024, "Largest request body a service accepts, in bytes; a larger one is "
        "answered 413 naming the limit (the registry's extract upload has its own, larger "
        "limit).", env="KLERO_MAX_REQUEST_BYTES", minimum=1024)
    trusted_proxy: bool = setting(
        False, "The service runs behind a reverse proxy (ingress) that sets X-Forwarded-Proto "
        "and X-Forwarded-For: trust them (HTTPS detection for HSTS, the client address). "
        "Leave off when clients reach the service directly, or they could forge them.",
        env="KLERO_TRUSTED_PROXY")
    code_failures_per_client: int = setting(
        10, "Failed code tries (sign-up, seat answer, vote, questionnaire) one client may make "
        "within KLERO_CODE_FAILURE_WINDOW_SECONDS before it is locked out.",
        env="KLERO_CODE_FAILURES_PER_CLIENT", minimum=1)
    code_failures_per_code: int = setting(
        5, "Failed tries with one code (from any client) within the window before that code "
        "is locked.", env="KLERO_CODE_FAILURES_PER_CODE", minimum=1)
    code_failure_window_seconds: int = setting(
        600, "Window in which failed code tries are counted.",
        env="KLERO_CODE_FAILURE_WINDOW_SECONDS", minimum=1)
    code_lockout_seconds: int = setting(
        900, "First lockout of a client or a code; each further lockout lasts twice as long.",
        env="KLERO_CODE_LOCKOUT_SECONDS", minimum=1)
    code_lockout_max_seconds: int = setting(
        86_400, "Longest lockout; a client or code without failures for this long starts "
        "again at the first lockout.", env="KLERO_CODE_LOCKOUT_MAX_SECONDS", minimum=1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read every field from the environment; raise SettingsError naming the variable."""
        environ = os.environ if environ is None else environ
        service: str = overrides.get("service") or cls.service
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "service":
                continue
            name = variable_name(service, f)
            if f.name in overrides:
                raw, from_env = overrides[f.name], False
            elif name in environ:
                raw, from_env = environ[name], True
            else:
                continue
            values[f.name] = _check(name, f, raw, from_env)
        return cls(**{**values, "service": service})

    def database(self) -> str:
        if self.database_url:
            return self.database_url
        path = pathlib.Path(self.data_dir) / f"{self.service}.sqlite3"
        return f"sqlite:///{path}"

    def documented(self) -> list[tuple[str, str, str]]:
        """(variable, current value, doc) for every setting; secrets are masked."""
        rows: list[tuple[str, str, str]] = []
        for f in dataclasses.fields(self):
            if f.name == "service":
                continue
            value = getattr(self, f.name)
            shown = "***" if f.metadata.get("secret") and value else (
                ",".join(value) if isinstance(value, tuple) else str(value))
            rows.append((variable_name(self.service, f), shown, f.metadata.get("doc", "")))
        return rows


def _check(name: str, f: dataclasses.Field[Any], raw: Any, from_env: bool) -> Any:
    # Annotations are strings here (postponed evaluation): "tuple[str, ...]" is a tuple.
    kind = f.type if isinstance(f.type, type) else {"str": str, "int": int, "bool": bool,
                                                     "tuple": tuple}.get(
        str(f.type).partition("[")[0], str)
    if from_env or isinstance(raw, str) and kind is not str:
        try:
            value = _PARSERS[kind](raw)
        except ValueError as exc:
            raise SettingsError(name, str(exc)) from None
    else:
        value = tuple(raw) if kind is tuple else raw
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise SettingsError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    minimum = f.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {value}")
    return value
