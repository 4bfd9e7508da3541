"""What every built-in invitation channel shares: settings checks, the template, the sent
log that makes ``send`` idempotent, atomic files and HTTP delivery.

Templates
---------
``render(recipient, template, assembly)`` accepts the template in any of these shapes
(the recipient's language is chosen, falling back to Danish, then English):

- by language: ``{"da": {"subject": ..., "body": ...}, "en": {...}}``
- by part: ``{"subject": {"da": ..., "en": ...}, "body": {"da": ..., "en": ...}}``
- flat, one language: ``{"subject": ..., "body": ...}``

Parts a channel may use besides ``subject`` and ``body``: ``html`` (e-mail) and ``sms``.
Placeholders: ``{code}``, ``{signup_url}``, ``{short_url}``, ``{assembly_name}``,
``{deadline}``, ``{sender}``, ``{name}``. An unknown placeholder is an error naming the part.

The assembly mapping: ``name`` (str or ``{lang: str}``), ``id``, ``signup_base_url`` (a
``{code}`` in it is replaced, otherwise ``?code=<code>`` is added), ``deadline`` (date or ISO
date), ``sender`` (the organisation's name, str or ``{lang: str}``). ``signup_url`` (what the
registry's channel worker passes) is accepted in place of ``signup_base_url``.
"""
from __future__ import annotations

import builtins
import json
import logging
import os
import pathlib
import re
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeGuard, overload

from kleroterion.plugin import DeliveryResult, Invitation, PluginError, Recipient

log = logging.getLogger("kleroterion.channels")

_REQUIRED = object()
DEFAULT_STATE_ROOT = pathlib.Path(".kleroterion") / "channels"
_INVITATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


# --- settings ---------------------------------------------------------------------------


class Options:
    """Reads one plugin's settings table; every error names ``plugins.<plugin>.<key>``.

    Call ``done()`` last: a key nobody read is a typo worth stopping for.

    A reader returns ``None`` only when ``None`` is its default (an optional setting), so
    the overloads let the checker see a required setting as present. Inside the class the
    readers ``str``, ``int``, ... shadow the built-in types: annotations say ``builtins.*``.
    """

    def __init__(self, plugin: str, settings: Mapping[str, Any]):
        if not isinstance(settings, Mapping):
            raise PluginError(f"plugins.{plugin}", "must be a table of settings")
        self.plugin = plugin
        self.settings = dict(settings)
        self._read: set[str] = set()

    def error(self, key: builtins.str, reason: builtins.str) -> PluginError:
        return PluginError(f"plugins.{self.plugin}.{key}", reason)

    def _get(self, key: builtins.str, default: Any) -> Any:
        self._read.add(key)
        value = self.settings.get(key, default)
        if value is _REQUIRED:
            raise self.error(key, "is required")
        return value

    @overload
    def str(self, key: builtins.str, default: builtins.str = ..., *,
            choices: Collection[builtins.str] | None = None,
            pattern: builtins.str | None = None) -> builtins.str: ...

    @overload
    def str(self, key: builtins.str, default: None, *,
            choices: Collection[builtins.str] | None = None,
            pattern: builtins.str | None = None) -> builtins.str | None: ...

    def str(self, key: builtins.str, default: Any = _REQUIRED, *,
            choices: Collection[builtins.str] | None = None,
            pattern: builtins.str | None = None) -> builtins.str | None:
        value = self._get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or (not value.strip() and default is _REQUIRED):
            raise self.error(key, "must be a non-empty string")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(key, f"{value!r} is not valid (expected {pattern})")
        return value

    def int(self, key: builtins.str, default: Any = _REQUIRED, *,
            minimum: builtins.int | None = None,
            maximum: builtins.int | None = None) -> builtins.int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")
        return value

    def float(self, key: builtins.str, default: Any = _REQUIRED, *,
              minimum: builtins.float = 0.0) -> builtins.float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= minimum:
            raise self.error(key, f"must be a number above {minimum:g}, got {value!r}")
        return float(value)

    def bool(self, key: builtins.str, default: Any = _REQUIRED) -> builtins.bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    @overload
    def url(self, key: builtins.str, default: builtins.str = ...) -> builtins.str: ...

    @overload
    def url(self, key: builtins.str, default: None) -> builtins.str | None: ...

    def url(self, key: builtins.str, default: Any = _REQUIRED) -> builtins.str | None:
        value = self.str(key, default)
        if value is None:
            return None
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.error(key, f"must be an http(s) URL, got {value!r}")
        return value

    @overload
    def path(self, key: builtins.str,
             default: builtins.str | os.PathLike[builtins.str] = ...) -> pathlib.Path: ...

    @overload
    def path(self, key: builtins.str, default: None) -> pathlib.Path | None: ...

    def path(self, key: builtins.str, default: Any = _REQUIRED) -> pathlib.Path | None:
        value = self._get(key, default)
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise self.error(key, "must be a directory path")
        return pathlib.Path(value)

    @overload
    def secret(self, key: builtins.str, *, required: Literal[True]) -> builtins.str: ...

    @overload
    def secret(self, key: builtins.str, *, required: builtins.bool) -> builtins.str | None: ...

    def secret(self, key: builtins.str, *, required: builtins.bool) -> builtins.str | None:
        """A secret from ``<key>`` or, better, the environment variable named by
        ``<key>_env``, so that region files can be committed without it."""
        env_key = f"{key}_env"
        direct = self.str(key, None)
        env_name = self.str(env_key, None)
        if direct is not None and env_name is not None:
            raise self.error(key, f"set either {key} or {env_key}, not both")
        if env_name is not None:
            value = os.environ.get(env_name)
            if not value:
                raise self.error(env_key, f"the environment variable {env_name} is not set")
            return value
        if direct is None and required:
            raise self.error(env_key, f"is required (or {key})")
        return direct

    def state_dir(self) -> pathlib.Path:
        return self.path("state_dir", str(DEFAULT_STATE_ROOT / self.plugin))

    def done(self) -> None:
        unknown = sorted(set(self.settings) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read))
            raise self.error(unknown[0], f"unknown setting (known: {known})")


# --- invitations --------------------------------------------------------------------------


def check_invitation_id(invitation_id: str) -> str:
    # The id names files in outboxes and sent logs, so it must not be able to name a path.
    if not isinstance(invitation_id, str) or not _INVITATION_ID.fullmatch(invitation_id):
        raise ValueError(f"invitation_id: {invitation_id!r} must be 1–128 letters, digits, "
                         f"'.', '_' or '-', starting with a letter or digit")
    return invitation_id


def signup_url(assembly: Mapping[str, Any], code: str) -> str:
    # The registry's channel worker hands the sign-up page's address as ``signup_url``
    # (KLERO_REGISTRY_SIGNUP_URL); ``signup_base_url`` wins when both are given.
    base = assembly.get("signup_base_url") or assembly.get("signup_url")
    if not isinstance(base, str) or not base:
        raise ValueError("assembly.signup_base_url: is required")
    quoted = urllib.parse.quote(code, safe="")
    if "{code}" in base:
        return base.replace("{code}", quoted)
    return f"{base}{'&' if '?' in base else '?'}code={quoted}"


_MONTHS = {
    "da": ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def format_date(value: Any, language: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, date):
        return str(value)
    if language == "da":
        return f"{value.day}. {_MONTHS['da'][value.month - 1]} {value.year}"
    return f"{value.day} {_MONTHS['en'][value.month - 1]} {value.year}"


def localised(value: Any, language: str) -> str:
    if isinstance(value, Mapping):
        for lang in (language, "da", "en"):
            if value.get(lang):
                return str(value[lang])
        return str(next(iter(value.values()), ""))
    return "" if value is None else str(value)


def template_part(template: Mapping[str, Any], part: str, language: str) -> str | None:
    """The text of one part (subject, body, html, sms) in the recipient's language."""
    for lang in (language, "da", "en"):
        by_lang = template.get(lang)
        if isinstance(by_lang, Mapping) and isinstance(by_lang.get(part), str):
            return by_lang[part]
    value = template.get(part)
    if isinstance(value, Mapping):
        for lang in (language, "da", "en"):
            if isinstance(value.get(lang), str):
                return value[lang]
        return None
    return value if isinstance(value, str) else None


class _Placeholders(dict[str, str]):
    def __init__(self, values: Mapping[str, str], part: str):
        super().__init__(values)
        self.part = part

    def __missing__(self, key: str) -> str:
        raise ValueError(f"template.{self.part}: unknown placeholder {{{key}}} "
                         f"(known: {', '.join('{' + k + '}' for k in sorted(self))})")


def fill(text: str, values: Mapping[str, str], part: str) -> str:
    try:
        return text.format_map(_Placeholders(values, part))
    except (IndexError, AttributeError) as exc:
        raise ValueError(f"template.{part}: {exc}") from None
    except ValueError as exc:
        if str(exc).startswith("template."):
            raise
        raise ValueError(f"template.{part}: {exc}") from None


def placeholder_values(recipient: Recipient, assembly: Mapping[str, Any], url: str,
                       short_url: str | None = None, sender: str | None = None) -> dict[str, str]:
    lang = recipient.language
    return {
        "code": recipient.code,
        "signup_url": url,
        "short_url": short_url or url,
        "assembly_name": localised(assembly.get("name"), lang),
        "deadline": format_date(assembly.get("deadline"), lang),
        "sender": sender or localised(assembly.get("sender"), lang),
        "name": recipient.name or "",
    }


def render_parts(template: Mapping[str, Any], recipient: Recipient, values: Mapping[str, str],
                 parts: Sequence[str] = ("subject", "body")) -> dict[str, str]:
    """Fill the named parts; ``subject`` and ``body`` are required, others optional."""
    if not isinstance(template, Mapping):
        raise ValueError("template: must be a mapping of subject/body texts")
    out = {}
    for part in parts:
        text = template_part(template, part, recipient.language)
        if text is None:
            if part in ("subject", "body"):
                raise ValueError(f"template.{part}: missing for language "
                                 f"{recipient.language!r}")
            continue
        out[part] = fill(text, values, part)
    return out


# --- files ------------------------------------------------------------------------------


def valid_invitation_ids(invitation_ids: Sequence[str]) -> list[str]:
    """The ids that can name a file (others were never written, so there is nothing of
    theirs to erase)."""
    return [i for i in invitation_ids if isinstance(i, str) and _INVITATION_ID.fullmatch(i)]


def remove_file(path: pathlib.Path) -> bool:
    """Delete ``path`` if it is there; whether it was."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def atomic_write(path: pathlib.Path, data: bytes) -> None:
    """Write a whole file or nothing: readers of an outbox never see half a message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class SentLog:
    """One small JSON file per invitation id: what the channel did with it.

    It holds no personal data (no address, number or e-mail), only status and detail."""

    def __init__(self, directory: pathlib.Path):
        self.directory = pathlib.Path(directory)

    def _path(self, invitation_id: str) -> pathlib.Path:
        return self.directory / f"{check_invitation_id(invitation_id)}.json"

    def get(self, invitation_id: str) -> DeliveryResult | None:
        try:
            data = json.loads(self._path(invitation_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return DeliveryResult(data["status"], data.get("detail", ""), data.get("retryable", False))

    def record(self, invitation_id: str) -> dict[str, Any] | None:
        """The whole record (status and what the channel noted beside it), or None."""
        try:
            data: dict[str, Any] = json.loads(self._path(invitation_id).read_text(
                encoding="utf-8"))
        except FileNotFoundError:
            return None
        return data

    def attempts(self, invitation_id: str) -> int:
        try:
            record = json.loads(self._path(invitation_id).read_text(encoding="utf-8"))
            return int(record.get("attempts", 0))
        except FileNotFoundError:
            return 0

    def put(self, invitation_id: str, result: DeliveryResult, **extra: Any) -> None:
        record = {"invitation_id": invitation_id, "status": result.status, "detail": result.detail,
                  "retryable": result.retryable,
                  "attempts": self.attempts(invitation_id) + 1,
                  "time": datetime.now(UTC).isoformat(), **extra}
        atomic_write(self._path(invitation_id), json.dumps(record).encode())


def already_done(result: DeliveryResult | None) -> TypeGuard[DeliveryResult]:
    """Whether a recorded result ends the matter: anything but a retryable failure."""
    return result is not None and not (result.status == "failed" and result.retryable)


class Channel:
    """The shared ``send``/``delivery_status``: check the sent log, deliver at most once
    per invitation id, record the result. Subclasses implement ``_deliver``."""

    name = "channel"

    def __init__(self, state_dir: pathlib.Path):
        self.sent_log = SentLog(state_dir)
        self._lock = threading.Lock()

    def send(self, invitation: Invitation) -> DeliveryResult:
        if invitation.channel != self.name:
            raise ValueError(f"invitation.channel: {invitation.channel!r} was rendered for "
                             f"another channel than {self.name!r}")
        invitation_id = check_invitation_id(invitation.recipient.invitation_id)
        with self._lock:
            recorded = self.sent_log.get(invitation_id)
            if already_done(recorded):
                return recorded
            result = self._deliver(invitation)
            self.sent_log.put(invitation_id, result)
        log.info("invitation %s via %s: %s %s", invitation_id, self.name, result.status,
                 result.detail, extra={"channel": self.name, "status": result.status})
        return result

    def delivery_status(self, invitation_id: str) -> DeliveryResult | None:
        return self.sent_log.get(invitation_id)

    def erase(self, invitation_ids: Sequence[str]) -> int:
        """Delete what this channel keeps about these invitations (``ErasableChannel``).
        The shared part keeps only the sent log, which holds no personal data, so there is
        nothing to delete; channels with an outbox or batches override this."""
        return 0

    def _deliver(self, invitation: Invitation) -> DeliveryResult:  # pragma: no cover
        raise NotImplementedError


# --- HTTP -------------------------------------------------------------------------------


def http_post(url: str, body: bytes, headers: Mapping[str, str], timeout: float,
              accepted: Callable[[int], str] = lambda status: "sent") -> DeliveryResult:
    """POST and classify: 2xx done, 408/429/5xx and network trouble retryable, other 4xx
    final. The detail never quotes the response body, which may echo personal data."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return DeliveryResult(accepted(response.status), f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        exc.close()
        retryable = exc.code in (408, 425, 429) or exc.code >= 500
        return DeliveryResult("failed", f"HTTP {exc.code}", retryable=retryable)
    except TimeoutError:
        return DeliveryResult("failed", f"no answer within {timeout:g} s", retryable=True)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return DeliveryResult("failed", f"no answer within {timeout:g} s", retryable=True)
        return DeliveryResult("failed", f"cannot connect ({type(reason).__name__})",
                              retryable=True)
    except (ConnectionError, OSError) as exc:
        return DeliveryResult("failed", f"connection failed ({type(exc).__name__})",
                              retryable=True)
