"""One CGI process started directly, as a web server would: its environment, its wall time, its
peak RSS."""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

from .paths import BODY, CGI_PATH
from .processes import BenchError
from .rows import ROW
from .services import Run


def cgi_environment(run: Run, spool: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(BODY.stat().st_size), "REMOTE_ADDR": "127.0.0.1", "SCRIPT_NAME": CGI_PATH,
            "QUERY_STRING": "", "PIXELHOOK_SPOOL": str(spool), "PIXELHOOK_HANDLERS": str(run.handlers),
            "PIXELHOOK_PROJECT_IDS": run.project}


def start_command(run: Run, row_id: str) -> list[str]:
    row = ROW[row_id]
    if row.build:
        if not (run.dir / "bin" / ("pixelhook" + row.build)).exists():
            raise BenchError(f"no {row.build}/release/pixelhook (--variants builds it)")
        return [str(run.dir / "bin" / ("pixelhook" + row.build))]
    return [str(run.binary("cgi_floor") if row_id == "S0" else run.pixelhook)]


def peak_rss_kib(run: Run, argv: list[str], runs: int = 5) -> int:
    """The median peak RSS of one CGI process, by /usr/bin/time (a child of this Python would
    report Python's own peak: exec keeps the old image's high-water mark in ru_maxrss)."""
    if not os.path.exists("/usr/bin/time"):
        raise BenchError("no /usr/bin/time")
    env = cgi_environment(run, run.spool("start"))
    peaks = []
    for _ in range(runs):
        with open(BODY, "rb") as body:
            result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdin=body, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env=env, timeout=30)
        peaks.append(int(result.stderr.strip().splitlines()[-1]))
    return int(statistics.median(peaks))


def timed_starts(run: Run, argv: list[str], count: int) -> float:
    """Median wall seconds of `count` spawn+wait of one CGI process (the body on stdin)."""
    env = cgi_environment(run, run.spool("start"))
    times = []
    for _ in range(count):
        with open(BODY, "rb") as body:
            t0 = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, env, file_actions=[
                (os.POSIX_SPAWN_DUP2, body.fileno(), 0),
                (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
            _, status = os.waitpid(pid, 0)
            times.append(time.perf_counter() - t0)
        if status:
            raise BenchError(f"{argv[0]} exited with status {status}")
    return statistics.median(times)


