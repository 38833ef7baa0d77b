"""The production processes, started for real and killed with SIGKILL: gunicorn and the rq worker.

`Gunicorn` serves `app:create_app()` as README "Deploying to production" says, with `--preload` so the
master builds the app once and a worker killed mid-request is forked again in milliseconds (without it
every new worker builds the app again, which on these machines would take the kill loops past their
budget). `kill_workers` is the common crash (the OOM killer, a segfault): the master stays and forks
new workers; `kill_all` takes the master down with them, and `start` begins again from nothing.

`Worker` runs the body of `flask jobs worker` (app/deadlines/timers_cli.py) in a child forked from a
small parent that built the app once (tests/reliability/workerd.py), for the same reason: each kill
hits the process that runs the job, and the next worker is up at once. `kill_all` also ends that parent.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """The direct children of `pid`, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


class Gunicorn:
    def __init__(self, env: dict, log: Path, workers: int = 2):
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "--preload", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--no-control-socket", "--timeout", "30", "--graceful-timeout", "1", "app:create_app()"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60, gone: list[int] = ()) -> None:
        """Until the workers are up (none of `gone`, the ones just killed) and the server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"gunicorn exited:\n{tail(self.log)}"
            up = children(self.proc.pid)
            if len(up) >= self.workers and not set(up) & set(gone):
                try:
                    urllib.request.urlopen(f"{self.base}/login", timeout=2).close()
                    return
                except urllib.error.HTTPError:
                    return  # an answer is an answer
                except OSError:
                    pass
            time.sleep(0.02)
        raise AssertionError(f"gunicorn did not come up:\n{tail(self.log)}")

    def kill_workers(self) -> list[int]:
        killed = children(self.proc.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        return killed

    def kill_all(self) -> None:
        """SIGKILL the master and its workers (its own process group, made by start_new_session)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Worker:
    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.parent: subprocess.Popen | None = None
        self.pid: int | None = None

    def start(self) -> "Worker":
        with open(self.log, "a") as log:
            self.parent = subprocess.Popen([sys.executable, "-m", "tests.reliability.workerd"], cwd=REPO,
                                           env=self.env, stdout=subprocess.PIPE, stderr=log, text=True,
                                           start_new_session=True)
        self.pid = self._next_pid()
        return self

    def _next_pid(self) -> int:
        line = self.parent.stdout.readline()
        assert line, f"the worker's parent exited:\n{tail(self.log)}"
        return int(line)

    def kill(self) -> None:
        """SIGKILL the process running the jobs; its parent forks the next worker."""
        os.kill(self.pid, signal.SIGKILL)
        self.pid = self._next_pid()

    def kill_all(self) -> None:
        if self.parent is not None and self.parent.poll() is None:
            os.killpg(self.parent.pid, signal.SIGKILL)
            self.parent.wait()
        if self.parent is not None:
            self.parent.stdout.close()


def burst_worker(env: dict, log: Path, timeout: float = 120) -> None:
    """The real `flask jobs worker --burst`: run what the queue holds, then exit."""
    with open(log, "a") as out:
        subprocess.run([str(BIN / "flask"), "--app", "app:create_app()", "jobs", "worker", "--burst"], cwd=REPO,
                       env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=True)
