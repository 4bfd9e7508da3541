"""Structured logs that never carry a citizen's personal data.

Log records are JSON objects (or text for people at a terminal). Before a record is written,
fields whose names say they hold personal data are dropped and values that look like a CPR
number, an e-mail address or a phone number are masked, so a careless ``extra=`` cannot
leak them into a log collector.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

PERSONAL_FIELDS = frozenset({
    "cpr", "cpr_number", "person_key", "name", "first_name", "last_name", "full_name",
    "address", "address_line", "street", "email", "e_mail", "phone", "mobile", "birth_date",
    "birthdate", "date_of_birth",
})
_PATTERNS = [
    (re.compile(r"\b\d{6}-?\d{4}\b"), "[cpr]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"(?<![\w.])\+?\d[\d \-]{7,}\d\b"), "[phone]"),
]
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_"):
            continue
        if key.lower() in PERSONAL_FIELDS:
            continue
        out[key] = scrub(value) if isinstance(value, str) else value
    return out


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{record.levelname:<7} {record.name}: {scrub(record.getMessage())}"
        return f"{line} {extras}".rstrip()


def configure(service: str, level: str = "INFO", fmt: str = "json",
              stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python is chatty at INFO about every connection.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
