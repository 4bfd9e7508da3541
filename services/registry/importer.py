"""Importing a population extract: stream the CSV, validate every row, insert in batches.

The whole import is one transaction: rows are inserted batch by batch while the file is
read (memory stays flat whatever the size), and the first bad row stops further inserts
while validation goes on to report every bad row (up to a cap); a file with any bad row
is rolled back, so it imports nothing.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.common.geography import municipalities
from services.registry import models
from services.registry.crypto import Sealer

REQUIRED = ("person_key", "name", "address", "postcode", "municipality_code", "birth_date", "sex")
OPTIONAL = ("phone", "email", "digital_post_exempt", "language")
AGE_BANDS = ((0, "0-17"), (18, "18-29"), (30, "30-44"), (45, "45-59"), (60, "60-74"), (75, "75+"))
_SEX = {"m": "male", "male": "male", "mand": "male", "k": "female", "f": "female",
        "female": "female", "kvinde": "female", "x": "other", "other": "other", "andet": "other"}
_TRUE = {"1", "true", "ja", "j", "yes", "y"}
_FALSE = {"", "0", "false", "nej", "n", "no"}
_CPR = re.compile(r"^\d{6}-?\d{4}$")
_POSTCODE = re.compile(r"^\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PUNCT = re.compile(r"[.,;:]+")


class MappingError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the extract holds which field (a JSON object in the request)."""

    columns: Mapping[str, str]
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8"
    person_key_format: str = "cpr"  # "cpr" (10 digits) or "opaque"

    @classmethod
    def parse(cls, raw: Any) -> ColumnMapping:
        if isinstance(raw, (str, bytes)):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise MappingError("mapping", f"is not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise MappingError("mapping", "must be a JSON object with 'columns'")
        columns = raw.get("columns")
        if not isinstance(columns, dict):
            raise MappingError("mapping.columns", "must map field names to column names")
        for name in REQUIRED:
            if not isinstance(columns.get(name), str) or not columns[name].strip():
                raise MappingError(f"mapping.columns.{name}", "is required (the column that "
                                                              f"holds the {name})")
        for name, column in columns.items():
            if name not in REQUIRED + OPTIONAL:
                raise MappingError(f"mapping.columns.{name}", "is not a field of an extract "
                                   f"(fields: {', '.join(REQUIRED + OPTIONAL)})")
            if not isinstance(column, str) or not column.strip():
                raise MappingError(f"mapping.columns.{name}", "must be a column name")
        delimiter = raw.get("delimiter", ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise MappingError("mapping.delimiter", "must be one character")
        date_format = raw.get("date_format", "%Y-%m-%d")
        if not isinstance(date_format, str) or "%" not in date_format:
            raise MappingError("mapping.date_format", "must be a strptime format such as %d-%m-%Y")
        encoding = raw.get("encoding", "utf-8")
        try:
            # A text codec, not e.g. base64 or rot13, which codecs.lookup also knows.
            codecs_ok = isinstance(encoding, str) and codecs.lookup(encoding)._is_text_encoding
        except LookupError:
            codecs_ok = False
        if not codecs_ok:
            raise MappingError("mapping.encoding", f"unknown encoding {encoding!r}")
        key_format = raw.get("person_key_format", "cpr")
        if key_format not in ("cpr", "opaque"):
            raise MappingError("mapping.person_key_format", "must be 'cpr' or 'opaque'")
        unknown = set(raw) - {"columns", "delimiter", "date_format", "encoding",
                              "person_key_format"}
        if unknown:
            raise MappingError(f"mapping.{sorted(unknown)[0]}", "is not a mapping option")
        return cls(dict(columns), delimiter, date_format, encoding, key_format)


@dataclass
class ImportResult:
    extract_id: str | None
    rows: int
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class _HashingRaw(io.RawIOBase):
    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha.update(data)
        return n


def age_band(birth: date, today: date) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    band = AGE_BANDS[0][1]
    for low, name in AGE_BANDS:
        if age >= low:
            band = name
    return band


def normalise_address(address: str, postcode: str) -> str:
    return " ".join(_PUNCT.sub(" ", address.casefold()).split()) + "|" + postcode


def import_extract(conn: Connection, assembly_id: str, stream: IO[bytes], mapping: ColumnMapping,
                   sealer: Sealer, *, batch_size: int = 5000, max_errors: int = 100,
                   today: date | None = None) -> ImportResult:
    """Validate and insert every row of ``stream`` inside ``conn``'s transaction. The caller
    rolls back when the result is not ``ok``."""
    today = today or date.today()
    known = municipalities()
    raw = _HashingRaw(stream)
    text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=mapping.encoding,
                            newline="", errors="strict")
    reader = csv.reader(text, delimiter=mapping.delimiter)
    result = ImportResult(None, 0)
    extract_id = str(uuid.uuid4())

    def error(row: int, fld: str, reason: str) -> None:
        result.error_count += 1
        if len(result.errors) < max_errors:
            result.errors.append({"row": row, "field": fld,
                                  "column": mapping.columns.get(fld), "reason": reason})

    try:
        header = next(reader)
    except StopIteration:
        error(1, "file", "is empty (no header row)")
        return result
    except UnicodeDecodeError as exc:
        error(1, "file", f"is not {mapping.encoding} text ({exc.reason})")
        return result
    header = [h.strip().lstrip("\ufeff") for h in header]
    position: dict[str, int] = {}
    for fld, column in mapping.columns.items():
        if column not in header:
            raise MappingError(f"mapping.columns.{fld}",
                               f"column {column!r} is not in the file's header "
                               f"({', '.join(header[:20])})")
        position[fld] = header.index(column)
    p_key, p_name, p_addr, p_post, p_mun, p_birth, p_sex = (position[f] for f in REQUIRED)
    p_phone, p_email, p_exempt, p_lang = (position.get(f) for f in OPTIONAL)
    width = len(header)
    iso = mapping.date_format == "%Y-%m-%d"
    cpr = mapping.person_key_format == "cpr"
    batch: list[tuple] = []
    batch_rows: dict[str, int] = {}
    # Plain DB-API executemany: SQLAlchemy's per-row parameter processing would cost more
    # than the insert itself at a million rows.
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if conn.dialect.name == "sqlite":
        # The person-key index outgrows SQLite's 2 MB default cache at a few 100k rows and
        # every insert then reads pages from disk.
        conn.exec_driver_sql("PRAGMA cache_size=-262144")
    columns = ("assembly_id, extract_id, key_hash, household, municipality_code, age_band, sex, "
               "sealed")
    insert_sql = f"INSERT INTO persons ({columns}) VALUES (" + ", ".join([mark] * 8) + ")"
    # On PostgreSQL through psycopg 3, COPY on the same connection (so inside the same
    # transaction, rolled back with it): executemany costs a round trip per row.
    copy_sql = (f"COPY persons ({columns}) FROM STDIN"
                if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
                else None)

    def insert() -> None:
        if copy_sql is None:
            conn.exec_driver_sql(insert_sql, batch)
            return
        try:
            # psycopg's own connection: COPY is not part of the DB-API.
            driver: Any = conn.connection.driver_connection
            with driver.cursor() as cur, cur.copy(copy_sql) as copy:
                for row in batch:
                    copy.write_row(row)
        except conn.dialect.loaded_dbapi.IntegrityError as exc:
            # The raw DB-API's error: wrap it as SQLAlchemy would.
            raise IntegrityError(copy_sql, None, exc) from exc

    def flush() -> None:
        # The unique index finds a person key seen before (earlier in the file or already
        # imported); only then are the batch's keys looked up to name the rows. Looking
        # them up for every batch cost more than the insert, and on PostgreSQL, whose
        # planner has no statistics for a table filled in this very transaction, each
        # lookup became a scan of everything inserted so far.
        if result.error_count == 0 and batch:
            try:
                with conn.begin_nested():
                    insert()
            except IntegrityError:
                keys = list(batch_rows)
                existing = conn.exec_driver_sql(
                    f"SELECT key_hash FROM persons WHERE assembly_id = {mark} AND key_hash IN ("
                    + ", ".join([mark] * len(keys)) + ")", (assembly_id, *keys)).scalars().all()
                if not existing:
                    raise
                for key_hash in existing:
                    error(batch_rows[key_hash], "person_key",
                          "appears twice (earlier in this file or already imported)")
        batch.clear()
        batch_rows.clear()

    line = 1
    try:
        for values in reader:
            line += 1
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            result.rows += 1
            if len(values) != width:
                error(line, "row", f"has {len(values)} columns, the header has {width}")
                continue
            bad = False
            key = values[p_key].strip()
            if cpr:
                if not _CPR.match(key):
                    error(line, "person_key", "must be a CPR number of 10 digits (DDMMYYXXXX)")
                    bad = True
                key = key.replace("-", "")
            elif not key or len(key) > 64:
                error(line, "person_key", "must be 1-64 characters")
                bad = True
            name = values[p_name].strip()
            if not name:
                error(line, "name", "is empty")
                bad = True
            address = values[p_addr].strip()
            if not address:
                error(line, "address", "is empty")
                bad = True
            postcode = values[p_post].strip()
            if not _POSTCODE.match(postcode):
                error(line, "postcode", f"must be 4 digits, got {postcode!r}")
                bad = True
            mun = values[p_mun].strip()
            code = int(mun) if mun.isdigit() else -1
            if code not in known:
                error(line, "municipality_code", f"{mun!r} is not a Danish kommunekode")
                bad = True
            raw_birth = values[p_birth].strip()
            try:
                birth = (date.fromisoformat(raw_birth) if iso
                         else datetime.strptime(raw_birth, mapping.date_format).date())
                if birth > today:
                    raise ValueError
            except ValueError:
                error(line, "birth_date", f"{raw_birth!r} is not a past date in the format "
                                          f"{mapping.date_format}")
                bad = True
            sex = _SEX.get(values[p_sex].strip().casefold())
            if sex is None:
                error(line, "sex", f"{values[p_sex].strip()!r} is not one of M, K/F, X")
                bad = True
            personal: dict[str, str | bool] = {"k": key, "n": name, "a": address, "p": postcode}
            if p_phone is not None and values[p_phone].strip():
                personal["ph"] = values[p_phone].strip()
            if p_email is not None and values[p_email].strip():
                email = values[p_email].strip()
                if not _EMAIL.match(email):
                    error(line, "email", "is not an e-mail address")
                    bad = True
                personal["e"] = email
            if p_exempt is not None:
                flag = values[p_exempt].strip().casefold()
                if flag in _TRUE:
                    personal["x"] = True
                elif flag not in _FALSE:
                    error(line, "digital_post_exempt", f"{flag!r} is not yes/no")
                    bad = True
            if p_lang is not None and values[p_lang].strip():
                lang = values[p_lang].strip().lower()
                if lang not in ("da", "en"):
                    error(line, "language", f"{lang!r} is not da or en")
                    bad = True
                personal["l"] = lang
            if bad:
                continue
            key_hash = sealer.digest("person", key)
            if key_hash in batch_rows:
                error(line, "person_key", f"appears twice (also in row {batch_rows[key_hash]})")
                continue
            batch_rows[key_hash] = line
            if result.error_count:  # nothing more is inserted; keep checking
                if len(batch_rows) >= batch_size:
                    flush()
                continue
            personal["b"] = birth.isoformat()
            batch.append((assembly_id, extract_id, key_hash,
                          sealer.digest("household", normalise_address(address, postcode)),
                          code, age_band(birth, today), sex, sealer.seal(personal)))
            if len(batch_rows) >= batch_size:
                flush()
    except UnicodeDecodeError as exc:
        error(line + 1, "file", f"is not {mapping.encoding} text ({exc.reason})")
    except csv.Error as exc:
        error(line, "row", f"is not valid CSV ({exc})")
    flush()
    result.sha256 = raw.sha.hexdigest()
    if result.error_count == 0:
        if result.rows == 0:
            error(2, "file", "has a header but no rows")
            return result
        conn.execute(models.extracts.insert().values(
            id=extract_id, assembly_id=assembly_id, row_count=result.rows,
            sha256=result.sha256, imported_at=datetime.now(UTC)))
        result.extract_id = extract_id
    return result
