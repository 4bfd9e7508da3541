"""One program run, timed from start to exit: wall seconds, CPU seconds (user + system of the
child and nothing else) and its peak resident memory, read from the kernel with wait4."""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Timed:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.returncode == 0

    def error(self) -> str:
        if self.timed_out:
            return f"timeout after {self.seconds:.0f} s"
        tail = self.stderr.strip().splitlines()[-1:] or [""]
        return f"exit {self.returncode}: {tail[0][:200]}"


def timed_run(cmd: Sequence[str], *, cwd: Path | None = None,
              env: Mapping[str, str] | None = None, timeout: float | None = None) -> Timed:
    """Run ``cmd`` to its end (or kill it after ``timeout`` seconds) and measure it."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env) if env else None,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True)
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            proc.kill()

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime,
                     peak_mb=usage.ru_maxrss / 1024.0, returncode=proc.returncode,
                     stdout=out.read(), stderr=err.read(), timed_out=fired.is_set())
