"""What the benchmark harnesses share (bench/sweep/run.py, bench/replay/run.py): moto's server, the
small process that measures a tool's wall time, CPU and peak RSS, the machine's description, a clean
environment for the tools, and the generated section of docs/BENCHMARKS.md.

Both scripts run from the repository root as `.venv/bin/python bench/<name>/run.py` and put this
folder on sys.path to import it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Iterable, TypeVar

REQUEST_LINE = re.compile(r'"(GET|POST|PUT|DELETE|HEAD|PATCH) (\S+) HTTP/[\d.]+" \d{3}')

T = TypeVar("T")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def require_executable(path: str, hint: str = "") -> None:
    if not os.access(path, os.X_OK):
        raise SystemExit(f"not found or not executable: {path}{hint}")


class Moto:
    """moto's server on a free port; its log in the work directory (one line per request, for
    counting) and, with record=True, its request recorder's file there too."""

    def __init__(self, server: str, workdir: Path, record: bool = False):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "moto.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if record:
            self.recording = workdir / "moto-recording.jsonl"
            env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        self.process = subprocess.Popen(
            [server, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"moto did not start:\n{self.log_path.read_text()}")
                time.sleep(0.1)

    def requests(self) -> int:
        """Requests to AWS APIs logged so far (moto's own /moto-api/ calls left out)."""
        with self.log_path.open() as f:
            return sum(1 for line in f if (m := REQUEST_LINE.search(line)) and not m[2].startswith("/moto-api/"))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def recorder(self, command: str) -> bytes:
        method = "GET" if command == "download-recording" else "POST"
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{command}", method=method, data=None)
        return urllib.request.urlopen(request, timeout=60).read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def clean_env(home: Path, moto: Moto | None = None, region: str = "us-east-1") -> dict[str, str]:
    """Nothing of the user's AWS configuration; with moto, its endpoint, dummy credentials and the region."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    if moto is not None:
        env.update(
            AWS_ENDPOINT_URL=moto.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=region,
            AWS_DEFAULT_REGION=region,
        )
    return env


# Runs the tool in a fresh child and reports its wall time, CPU and peak RSS. A small process of its
# own forks the tool, not the harness: Linux counts the memory a process had before exec in its
# ru_maxrss, so a child forked from a harness (boto3 loaded, a seeding plan or the data's manifest,
# ~60 MB) would report at least the harness's size. The small process's own few MB (6 to 9) are then
# the floor of what is measured.
MEASURE = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "wall": wall, "maxrss_kb": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime}, out)
"""


def measure(
    command: list[str], measured: Path, env: dict[str, str], stdout: int | IO, stderr: IO, cwd: Path | None = None
) -> dict:
    """Runs command under MEASURE; returns its exit code, wall time, peak RSS (KB) and CPU time:
    {"exit", "wall", "maxrss_kb", "cpu"}."""
    subprocess.run(
        [sys.executable, "-I", "-S", "-c", MEASURE, str(measured), *command],
        env=env,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        check=True,
    )
    return json.loads(measured.read_text())


def interleaved(items: list[T], index: int) -> Iterable[T]:
    """The items in the order of run `index`: alternated, so none always meets a cooler machine."""
    return items if index % 2 == 0 else reversed(items)


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} {platform.machine()}"


def run_header(
    started: datetime.datetime, load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> list[str]:
    """The first lines of a run's section: when, and on what machine under what load."""
    return [
        f"### Run of {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {machine()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(other builds may share the cores).",
    ]


def write_docs(path: Path, section: list[str], start: str, end: str, intro: str = "") -> None:
    """The section between the markers start and end in the Markdown file path; appended (after
    intro, when given) where the markers are not there yet."""
    text = path.read_text()
    block = "\n".join([start, *section, end])
    if start in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + (intro + "\n" if intro else "") + block + "\n"
    path.write_text(text)
