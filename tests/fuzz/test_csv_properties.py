"""Property tests of the CSV importers: the registry's extract import (through its endpoint,
so the all-or-nothing transaction is part of what is tested) and the sortition engine's
loaders. Whatever the file, the only failure is the importer's own error naming the field
(and for extracts the row); a bad file imports nothing, a good file exactly its rows."""
from __future__ import annotations

import csv
import io
import itertools
import json
import os

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from registry_support import Api

from services.common import audit
from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.registry import app as registry_app
from services.registry import models
from services.registry.settings import Settings
from services.sortition.engine.csvio import load_instance, load_people, load_quotas
from services.sortition.engine.model import InstanceError

SETTINGS = settings(max_examples=int(os.environ.get("KLERO_CSV_EXAMPLES", "40")),
                    derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])
COLUMNS = ["CPR", "Navn", "Adresse", "Postnr", "Kommune", "Foedt", "Koen", "Email"]
FIELDS = ["person_key", "name", "address", "postcode", "municipality_code", "birth_date",
          "sex", "email"]
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]
BAD = {"person_key": ["123", "abcdefghij", ""], "name": ["", "  "], "postcode": ["12a", "123"],
       "municipality_code": ["999", "x", ""], "birth_date": ["2999-01-01", "1.2.1990", ""],
       "sex": ["?", "", "q"], "email": ["not-an-email", "a@b"]}
keys = itertools.count(100000)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    settings_ = Settings.from_env({}, data_dir=str(tmp_path_factory.mktemp("csv")))
    ctx = registry_app.build(settings_, bus=InProcessBus(), plugins=PluginHost(enabled=["formats"]))
    app = registry_app.create_app(context=ctx)
    yield Api(app, ctx), ctx
    ctx.engine.dispose()


def counts(ctx) -> tuple[int, int, int]:
    with ctx.engine.connect() as conn:
        return (conn.scalar(sa.select(sa.func.count()).select_from(models.persons)),
                conn.scalar(sa.select(sa.func.count()).select_from(models.extracts)),
                conn.scalar(sa.select(sa.func.count()).select_from(audit.audit_log)))


name_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåéü ABCÆØÅ-'", min_size=1,
                    max_size=20).filter(str.strip)


@st.composite
def good_row(draw) -> list[str]:
    k = next(keys)
    return [f"{draw(st.integers(1, 28)):02d}{draw(st.integers(1, 12)):02d}"
            f"{draw(st.integers(0, 99)):02d}{k % 10000:04d}"[:10] if False else f"{k:010d}",
            draw(name_text), f"{draw(name_text)} {draw(st.integers(1, 300))}",
            f"{draw(st.integers(1000, 9990))}", str(draw(st.sampled_from([101, 147, 230, 851]))),
            f"{draw(st.integers(1920, 2006))}-{draw(st.integers(1, 12)):02d}-"
            f"{draw(st.integers(1, 28)):02d}",
            draw(st.sampled_from(["M", "K", "F", "X", "mand", "kvinde", "m", " k "])),
            draw(st.sampled_from(["", "a@example.invalid", "x.y@example.dk"]))]


def encode(rows: list[list[str]], delimiter: str, encoding: str, header=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(api, data: bytes, *, delimiter=";", encoding="utf-8", columns=None):
    assembly_id = f"x{next(keys)}"
    api.assembly(assembly_id)
    mapping = {"columns": columns or dict(zip(FIELDS, COLUMNS, strict=True)),
               "delimiter": delimiter,
               "encoding": "utf-8" if encoding == "utf-8-sig" else encoding}
    return api.upload(assembly_id, data, mapping=mapping)


def assert_refused_naming_the_field(r) -> None:
    assert r.status_code in (400, 422), (r.status_code, r.get_data()[:300])
    assert r.json["field"], r.json
    for e in r.json.get("errors", []):
        assert isinstance(e["row"], int) and e["row"] >= 1 and e["field"], e


@SETTINGS
@given(rows=st.lists(good_row(), min_size=1, max_size=15), delimiter=st.sampled_from(";,\t|"),
       encoding=st.sampled_from(ENCODINGS))
def test_a_good_extract_imports_exactly_its_rows(registry, rows, delimiter, encoding):
    api, ctx = registry
    before = counts(ctx)
    r = upload(api, encode(rows, delimiter, encoding), delimiter=delimiter, encoding=encoding)
    assert r.status_code == 201, r.json
    assert r.json["rows"] == len(rows)
    after = counts(ctx)
    assert after == (before[0] + len(rows), before[1] + 1, before[2] + 2)  # assembly + import


@SETTINGS
@given(rows=st.lists(good_row(), min_size=1, max_size=10), data=st.data(),
       encoding=st.sampled_from(ENCODINGS))
def test_a_bad_row_imports_nothing_and_is_named(registry, rows, data, encoding):
    api, ctx = registry
    field = data.draw(st.sampled_from(sorted(BAD)))
    at = data.draw(st.integers(0, len(rows) - 1))
    rows[at][FIELDS.index(field)] = data.draw(st.sampled_from(BAD[field]))
    before = counts(ctx)
    r = upload(api, encode(rows, ";", encoding), encoding=encoding)
    assert r.status_code == 422, r.json
    assert_refused_naming_the_field(r)
    assert {"row": at + 2, "field": field} in [{"row": e["row"], "field": e["field"]}
                                               for e in r.json["errors"]], r.json
    assert counts(ctx)[:2] == before[:2] and counts(ctx)[2] == before[2] + 1  # only the assembly


@SETTINGS
@given(rows=st.lists(good_row(), min_size=1, max_size=8), data=st.data())
def test_odd_files_are_refused_with_the_field_named(registry, rows, data):
    """Wrong delimiter or encoding, a missing column, a bare byte soup: a 4xx naming the
    field (and the row), never a 500, and nothing imported."""
    api, ctx = registry
    kind = data.draw(st.sampled_from(["delimiter", "encoding", "missing", "bytes", "short",
                                      "header_only", "empty"]))
    kwargs = {}
    if kind == "delimiter":
        body = encode(rows, ",", "utf-8")
        kwargs["delimiter"] = ";"
    elif kind == "encoding":
        body = encode(rows, ";", data.draw(st.sampled_from(["utf-16", "utf-32"])))
    elif kind == "missing":
        drop = data.draw(st.integers(0, 6))
        body = encode([r[:drop] + r[drop + 1:] for r in rows], ";", "utf-8",
                      header=COLUMNS[:drop] + COLUMNS[drop + 1:])
    elif kind == "bytes":
        body = data.draw(st.binary(max_size=300))
        kwargs["encoding"] = data.draw(st.sampled_from(["utf-8", "latin-1"]))
    elif kind == "short":
        body = encode([r[:-2] for r in rows], ";", "utf-8")
    elif kind == "header_only":
        body = encode([], ";", "utf-8")
    else:
        body = b""
    before = counts(ctx)
    r = upload(api, body, **kwargs)
    if kind == "bytes" and r.status_code == 201:  # by chance a valid file: imported whole
        assert counts(ctx)[0] == before[0] + r.json["rows"]
        return
    assert_refused_naming_the_field(r)
    after = counts(ctx)
    assert after[:2] == before[:2] and after[2] == before[2] + 1


@SETTINGS
@given(mapping=st.one_of(
    st.text(max_size=40),
    st.dictionaries(st.sampled_from(["columns", "delimiter", "encoding", "date_format",
                                     "person_key_format", "other"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=8),
                              st.dictionaries(st.sampled_from(FIELDS + ["x"]),
                                              st.one_of(st.text(max_size=6), st.integers())),
                              st.just(dict(zip(FIELDS, COLUMNS, strict=True)))), max_size=5)))
def test_any_mapping_is_refused_by_name_or_used(registry, mapping):
    api, ctx = registry
    assembly_id = f"x{next(keys)}"
    api.assembly(assembly_id)
    before = counts(ctx)
    r = api.client.post(f"/api/assemblies/{assembly_id}/extracts", headers=api.headers,
                        data={"file": (io.BytesIO(encode([], ";", "utf-8")), "e.csv"),
                              "mapping": (mapping if isinstance(mapping, str)
                                          else json.dumps(mapping))},
                        content_type="multipart/form-data")
    assert_refused_naming_the_field(r)  # no rows: never a 201
    assert counts(ctx)[:2] == before[:2]


# --- the sortition engine's loaders ----------------------------------------------------------

cell = st.one_of(st.sampled_from(["", "0", "1", "2", "-1", "x", "a", "b", "M", "F", "1.5",
                                  " 3 ", "٣", "1e3", "feature", "value", "min", "max"]),
                 st.text(max_size=5))
header = st.lists(st.sampled_from(["feature", "value", "min", "max", "min_flex", "max_flex",
                                   "category", "name", "id", "sex", "age", "household",
                                   "Feature", "MIN"]), min_size=0, max_size=6)


@st.composite
def csv_file(draw) -> bytes:
    head = draw(header)
    width = len(head)
    rows = draw(st.lists(st.lists(cell, min_size=max(0, width - 1), max_size=width + 1),
                         max_size=6))
    out = io.StringIO()
    w = csv.writer(out, delimiter=draw(st.sampled_from([",", ",", ";"])))
    w.writerow(head)
    w.writerows(rows)
    text = out.getvalue()
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    try:
        data = text.encode(enc)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.booleans()):
        data = draw(st.binary(max_size=80)) if draw(st.booleans()) else data[: len(data) // 2]
    return data


def only_instance_errors(call) -> None:
    try:
        call()
    except InstanceError as exc:
        assert exc.field and exc.reason, exc


@SETTINGS
@given(quotas=csv_file(), people=csv_file(), seats=st.one_of(st.integers(-2, 5), st.just(True)))
def test_engine_loaders_raise_only_instance_errors(tmp_path_factory, quotas, people, seats):
    folder = tmp_path_factory.mktemp("engine")
    q, p = folder / "quotas.csv", folder / "people.csv"
    q.write_bytes(quotas)
    p.write_bytes(people)
    only_instance_errors(lambda: load_quotas(q))
    only_instance_errors(lambda: load_people(p, ["sex", "age"]))
    only_instance_errors(lambda: load_people(p, ["sex"], id_column="id",
                                             household_columns=["household"],
                                             allowed_values={"sex": {"M", "F"}}))
    only_instance_errors(lambda: load_instance(q, p, seats))
    only_instance_errors(lambda: load_quotas(folder / "missing.csv"))
