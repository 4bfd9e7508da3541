"""``kleroterion serve`` runs a service as its own process and stops cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("service", ["registry", "sessions", "recommendations"])
def test_serve_answers_health_and_stops_on_sigterm(service, tmp_path):
    port = _free_port()
    env = {**os.environ, "KLERO_DATA_DIR": str(tmp_path), "KLERO_BUS": "inprocess"}
    proc = subprocess.Popen([sys.executable, "-m", "kleroterion.cli", "serve", service,
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    assert json.load(r)["status"] == "ready"
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "service did not become ready"
                time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_sortition_answers_grpc_health_and_stops_on_sigterm(tmp_path):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    port = _free_port()
    env = {**os.environ, "KLERO_DATA_DIR": str(tmp_path), "KLERO_BUS": "inprocess"}
    proc = subprocess.Popen([sys.executable, "-m", "kleroterion.cli", "serve", "sortition",
                             "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    assert reply.status == health_pb2.HealthCheckResponse.SERVING
                    break
                except grpc.RpcError:
                    assert proc.poll() is None, proc.stderr.read().decode()
                    assert time.monotonic() < deadline, "sortition did not start serving"
                    time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
