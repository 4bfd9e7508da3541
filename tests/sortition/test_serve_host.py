"""``kleroterion serve sortition`` listens where it is told (``--host`` or
KLERO_SORTITION_HOST), not on every interface."""
from __future__ import annotations

import ipaddress
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _address(hex_address: str) -> str:
    """An address as /proc writes it (32-bit words in host byte order), IPv4-mapped IPv6
    addresses given as their IPv4 address."""
    raw = b"".join(bytes.fromhex(hex_address[i:i + 8])[::-1]
                   for i in range(0, len(hex_address), 8))
    address = ipaddress.ip_address(raw)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _listening(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = pathlib.Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(_address(address))
    return found


@pytest.mark.skipif(not pathlib.Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", ["option", "environment"])
def test_sortition_binds_only_to_the_host_it_is_told(tmp_path, how):
    port = _free_port()
    env = {**os.environ, "KLERO_DATA_DIR": str(tmp_path), "KLERO_BUS": "inprocess"}
    args = [sys.executable, "-m", "kleroterion.cli", "serve", "sortition", "--port", str(port)]
    if how == "option":
        args += ["--host", "127.0.0.1"]
        env["KLERO_SORTITION_HOST"] = "0.0.0.0"  # the command line wins
    else:
        env["KLERO_SORTITION_HOST"] = "127.0.0.1"
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "sortition did not start listening"
            time.sleep(0.2)
        # Every interface would show as 0.0.0.0 or ::.
        assert _listening(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(30)
