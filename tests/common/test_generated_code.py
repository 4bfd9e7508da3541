"""The committed protobuf code is what ``make proto`` would generate now."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import gen_proto  # noqa: E402


def test_generated_code_is_up_to_date(tmp_path):
    gen_proto.generate(tmp_path)
    committed = ROOT / "services" / "contracts"
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.py*")}
    current = {p.relative_to(committed): p.read_text()
               for p in (committed / "kleroterion").rglob("*.py*") if "__pycache__" not in p.parts}
    current = {k: v for k, v in current.items() if k.name != "__init__.py"}
    fresh = {k: v for k, v in fresh.items() if k.name != "__init__.py"}
    stale = sorted(str(k) for k in fresh.keys() | current.keys() if fresh.get(k) != current.get(k))
    assert not stale, f"run `make proto`; out of date: {stale}"
