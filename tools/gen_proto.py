"""Generate Python protobuf/gRPC code from proto/ into services/contracts/.

protoc writes absolute imports that follow the .proto paths (``from kleroterion.v1 import
x_pb2``); our code lives under ``services.contracts``, so those imports are rewritten. The
same function regenerates into a scratch folder for the test that the committed code is
up to date.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import shutil
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "proto"
OUT_PACKAGE = "services.contracts"
_IMPORT = re.compile(r"^from kleroterion\.v1 import ", re.M)


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write generated modules under ``out_dir`` (the folder of ``services.contracts``)."""
    sources = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as scratch:
        args = [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={scratch}",
            f"--pyi_out={scratch}",
            f"--grpc_python_out={scratch}",
            *sources,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        written = []
        for path in sorted(pathlib.Path(scratch).rglob("*.py*")):
            rel = path.relative_to(scratch)
            text = _IMPORT.sub(f"from {OUT_PACKAGE}.kleroterion.v1 import ", path.read_text())
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    for package in {p.parent for p in written} | {out_dir / "kleroterion"}:
        (package / "__init__.py").touch()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "services" / "contracts")
    args = parser.parse_args(argv)
    generated = args.out / "kleroterion"
    if generated.exists():
        shutil.rmtree(generated)
    for path in generate(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
