"""Run the four services as separate processes on Kafka and PostgreSQL, on one machine.

This is what ``make demo-distributed`` and the end-to-end and fault tests use: each service
is its own ``kleroterion serve`` process with its own PostgreSQL database, and they talk
only over the Kafka broker, as in a deployment. A service can be stopped, killed (SIGKILL,
no goodbye) and started again on the same port and database.
"""
from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

SERVICES = ("registry", "sortition", "sessions", "recommendations")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Cluster:
    kafka_bootstrap: str
    postgres_url: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="klero-cluster.")))
    region: str = "local"
    topic_prefix: str = field(default_factory=lambda: f"kleroterion.e2e{uuid.uuid4().hex[:8]}")
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def _database(self, service: str) -> str:
        """A fresh database of the service's own on the shared server."""
        name = f"{service}_{self.topic_prefix.rsplit('.', 1)[-1]}"
        admin = sa.create_engine(self.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.postgres_url.rsplit("/", 1)[0] + f"/{name}"

    def start(self, services: Iterable[str] = SERVICES, timeout: float = 90) -> Cluster:
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        for name in services:
            env = {
                **os.environ,
                "KLERO_BUS": "kafka",
                "KLERO_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
                "KLERO_TOPIC_PREFIX": self.topic_prefix,
                "KLERO_TOPIC_PARTITIONS": "3",
                "KLERO_REGION": self.region,
                "KLERO_DATA_DIR": str(self.workdir / name),
                "KLERO_LOG_FORMAT": "json",
                f"KLERO_{name.upper()}_DATABASE_URL": self._database(name),
                "KLERO_REGISTRY_ENCRYPTION_KEY": key,
                **self.extra_env,
            }
            self.services[name] = ServiceProcess(name, free_port(), env,
                                                 self.workdir / f"{name}.log")
            self._spawn(self.services[name])
        for name in services:
            self.wait_ready(name, timeout)
        return self

    def _spawn(self, svc: ServiceProcess) -> None:
        log = open(svc.log_path, "ab")
        svc.process = subprocess.Popen(
            [sys.executable, "-m", "kleroterion.cli", "serve", svc.name, "--host", "127.0.0.1",
             "--port", str(svc.port)],
            env=svc.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        svc = self.services[name]
        process = svc.process
        if process is None:
            raise RuntimeError(f"{name}: not started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                                   f"{self.log_tail(name)}")
            if self._ready(svc):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{name} not ready after {timeout:.0f} s:\n{self.log_tail(name)}")

    @staticmethod
    def _ready(svc: ServiceProcess) -> bool:
        if svc.name == "sortition":
            import grpc
            from grpc_health.v1 import health_pb2, health_pb2_grpc

            with grpc.insecure_channel(svc.target) as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=""), timeout=2)
                except grpc.RpcError:
                    return False
                serving: bool = reply.status == health_pb2.HealthCheckResponse.SERVING
                return serving
        try:
            with urllib.request.urlopen(f"{svc.url}/readyz", timeout=2) as reply:
                ready: bool = reply.status == 200
                return ready
        except OSError:
            return False

    def stop(self, name: str, timeout: float = 30) -> int:
        """SIGTERM: the graceful way a pod is stopped."""
        svc = self.services[name]
        if svc.process and svc.process.poll() is None:
            svc.process.send_signal(signal.SIGTERM)
            try:
                return svc.process.wait(timeout)
            except subprocess.TimeoutExpired:
                svc.process.kill()
                return svc.process.wait()
        return svc.process.returncode if svc.process else 0

    def kill(self, name: str) -> None:
        """SIGKILL: the process dies mid-work, with nothing flushed or committed."""
        svc = self.services[name]
        if svc.process and svc.process.poll() is None:
            os.killpg(svc.process.pid, signal.SIGKILL)
            svc.process.wait()

    def restart(self, name: str, timeout: float = 90) -> None:
        self.stop(name)
        self._spawn(self.services[name])
        self.wait_ready(name, timeout)

    def start_again(self, name: str, timeout: float = 90) -> None:
        self._spawn(self.services[name])
        self.wait_ready(name, timeout)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.services[name].log_path
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        for name in list(self.services):
            self.stop(name)
