"""The run directory, the binaries built for it, and the servers the rows need."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .configs import render_lighttpd, render_nginx
from .paths import BENCH, BODY, ROOT
from .processes import (BenchError, Processes, children_map, free_port, log, post_status, processes_running,
                        tree, wait_until)
from .rows import BUILD_VARIANTS, Knobs, Row


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    url: str = ""             # http://127.0.0.1:PORT for those clients reach directly


class Run:
    """The run directory, the binaries built for it, and the services, started on demand and
    kept up for the whole run (pairs need two rows' servers at once)."""

    def __init__(self, knobs: Knobs, keep: bool):
        self.knobs = knobs
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="pixelhook-bench."))
        self.logs = self.dir / "log"
        self.raw = self.dir / "raw"
        for sub in ("log", "raw", "sock", "bin", "nginx", "lighttpd", "handlers", "spool"):
            (self.dir / sub).mkdir()
        self.processes = Processes(self.logs)
        self.services: dict[str, Service] = {}
        self.failed: dict[str, str] = {}
        self.pixelhook = self.dir / "bin/pixelhook"
        self.cgi_floor = self.dir / "bin/cgi_floor"
        self.handlers = self.dir / "handlers"
        self.true = shutil.which("true") or "/bin/true"
        (self.handlers / "default").symlink_to(self.true)
        self.project = json.loads(BODY.read_text())["projectId"]
        self.nonce = int.from_bytes(os.urandom(3), "big")
        self.served_by_responder = 0

    def burst_settings(self, server: str) -> dict[str, str]:
        return {"PIXELHOOK_SPOOL": str(self.spool("burst-" + server)), "PIXELHOOK_HANDLERS": str(self.burst_handlers),
                "PIXELHOOK_MAX_HANDLERS": str(self.knobs.max_handlers)}

    @property
    def burst_handlers(self) -> Path:
        """A `default` handler that records each run: a marker per running handler, and a
        line `DELIVERY RUNNING` (markers present: never more than hold a slot) per run."""
        directory = self.dir / "burst-handlers"
        if not directory.exists():
            directory.mkdir()
            (self.dir / "burst-running").mkdir()
            script = directory / "default"
            script.write_text(f"#!/bin/sh\n: > {self.dir}/burst-running/$$\nset -- {self.dir}/burst-running/*\n"
                              f"echo \"$PIXELHOOK_DELIVERY $#\" >> {self.dir}/burst-runs.log\nsleep 0.005\n"
                              f"rm -f {self.dir}/burst-running/$$\n")
            script.chmod(0o755)
        return directory

    def sock(self, name: str) -> Path:
        return self.dir / "sock" / f"{name}.sock"

    def spool(self, name: str) -> Path:
        return self.dir / "spool" / name

    # ---- building what the rows run
    def build(self, build: bool, variants: bool = False, binary: str | None = None) -> None:
        for scratch, flags in BUILD_VARIANTS.items():
            if variants:
                log(f"swift build -c release --scratch-path {scratch} {' '.join(flags)}")
                subprocess.run(["swift", "build", "-c", "release", "--product", "pixelhook", "--scratch-path", scratch]
                               + flags, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.logs / "build.log", "ab"))
            if (ROOT / scratch / "release/pixelhook").exists():
                shutil.copy2(ROOT / scratch / "release/pixelhook", self.dir / "bin" / ("pixelhook" + scratch))
        if build:
            log("scripts/build-static.sh (the shipped build, into .build-static)")
            result = subprocess.run(["bash", str(ROOT / "scripts/build-static.sh")], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=open(self.logs / "build.log", "wb"))
            if result.returncode:
                log(f"build failed (see {self.logs / 'build.log'}): the pixelhook rows are skipped")
        built = Path(binary) if binary else ROOT / ".build-static/release/pixelhook"
        if built.exists():
            shutil.copy2(built, self.pixelhook)   # a copy: others may rebuild; runners are found by it
        for name, source, flags in [("cgi_floor", "src/cgi_floor.c", []),
                                    ("durable_ceiling", "src/durable_ceiling.c", ["-pthread"]),
                                    ("store_steps", "src/store_steps.c", []),
                                    ("fcgi_floor", "src/fcgi_floor.c", ["-lfcgi"]),
                                    ("fcgi_store", "peers/fcgi_store.c", ["-lfcgi"])]:
            result = subprocess.run(["cc", "-O2", "-o", str(self.dir / "bin" / name), str(BENCH / source)] + flags,
                                    capture_output=True, text=True)
            if result.returncode:
                log(f"cc {source} failed: {result.stderr.strip()[:200]}")

    def binary(self, name: str) -> Path:
        path = self.dir / "bin" / name
        if not path.exists():
            raise BenchError(f"no {name} (its build failed)")
        return path

    # ---- services
    def need(self, name: str) -> Service:
        if name in self.failed:
            raise BenchError(self.failed[name])
        if name not in self.services:
            try:
                self.services[name] = getattr(self, "start_" + name.replace("-", "_"))()
            except (BenchError, OSError, StopIteration) as error:
                self.failed[name] = f"{name} did not start: {error}"
                raise BenchError(self.failed[name]) from None
        service = self.services[name]
        if service.process.poll() is not None:
            raise BenchError(f"{name} exited ({service.process.returncode}); see {self.logs}")
        return service

    def restart(self, name: str) -> Service:
        if name in self.services:
            self.processes.stop(self.services.pop(name).process)
        return self.need(name)

    def tool(self, name: str) -> str:
        path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if not path:
            raise BenchError(f"{name} is not installed")
        return path

    def wait_socket(self, path: Path, process: subprocess.Popen) -> None:
        wait_until(lambda: path.exists() or process.poll() is not None, 10, str(path))
        if process.poll() is not None:
            raise BenchError(f"exited ({process.returncode}) before creating {path.name}")

    def wait_http(self, url: str, process: subprocess.Popen, body: bytes | None = None) -> None:
        body = body or BODY.read_bytes()
        def up() -> bool:
            return process.poll() is not None or post_status(url, body) == 200
        wait_until(up, 15, url)
        if process.poll() is not None:
            raise BenchError(f"exited ({process.returncode})")

    def spawn_fcgi(self, name: str, children: int, argv: list[str]) -> Service:
        process = self.processes.start(name, [self.tool("spawn-fcgi"), "-n", "-s", str(self.sock(name)),
                                              "-M", "0600", "-F", str(children), "--"] + argv)
        self.wait_socket(self.sock(name), process)
        return Service(name, process)

    def web_server(self, name: str, render, argv, probe: str) -> Service:
        """A web server on a free port from a config rendered for it; another port if the one
        probed free was taken before the server bound it."""
        for _ in range(3):
            port = free_port()
            config = self.dir / f"{name}.conf"
            config.write_text(render(self, port))
            process = self.processes.start(name, argv(config))
            url = f"http://127.0.0.1:{port}"
            try:
                self.wait_http(url + probe, process)
                return Service(name, process, url)
            except BenchError:
                self.processes.stop(process)
        raise BenchError(f"{name} did not answer on three ports")

    def start_nginx(self) -> Service:
        nginx = self.tool("nginx")
        return self.web_server("nginx", render_nginx, lambda config: [
            nginx, "-g", "daemon off;", "-p", str(self.dir / "nginx") + "/", "-c", str(config),
            "-e", str(self.logs / "nginx-startup.log")], "/l0")

    def start_lighttpd(self) -> Service:
        lighttpd = self.tool("lighttpd")
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        return self.web_server("lighttpd", render_lighttpd, lambda config: [lighttpd, "-D", "-f", str(config)],
                               "/cgi_floor")

    def start_responder(self) -> Service:
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        # As the nginx example says to start it; the spool and handlers the rendered
        # fastcgi_param lines name must be allowed.
        process = self.processes.start("responder", [
            str(self.pixelhook), "fastcgi", "--listen", str(self.sock("responder")), "--socket-mode", "0660",
            "--allow-spool", str(self.spool("nginx")), "--allow-handlers", str(self.handlers),
            "--allow-spool", str(self.spool("burst-nginx")), "--allow-handlers", str(self.burst_handlers)])
        self.wait_socket(self.sock("responder"), process)
        return Service("responder", process)

    def start_fcgiwrap(self) -> Service:
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        process = self.processes.start("fcgiwrap", [self.tool("fcgiwrap"), "-c", "4", "-s",
                                                    "unix:" + str(self.sock("fcgiwrap"))])
        self.wait_socket(self.sock("fcgiwrap"), process)
        return Service("fcgiwrap", process)

    def start_f1(self) -> Service:
        return self.spawn_fcgi("f1", 2, [str(self.binary("fcgi_floor"))])

    def start_f1n(self) -> Service:
        self.spool("f1n").mkdir(exist_ok=True)
        return self.spawn_fcgi("f1n", 2, [str(self.binary("fcgi_store")), str(self.spool("f1n")), self.true])

    def start_f1s(self) -> Service:
        self.spool("f1s").mkdir(exist_ok=True)
        return self.spawn_fcgi("f1s", 16, [str(self.binary("fcgi_store")), str(self.spool("f1s")), "-"])

    def start_php(self) -> Service:
        fpm = sorted((p for d in ("/usr/sbin", "/usr/bin") if os.path.isdir(d) for p in os.listdir(d)
                      if re.fullmatch(r"php-fpm[0-9.]*", p)), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        if not fpm:
            raise BenchError("php-fpm is not installed")
        config = self.dir / "php-fpm.conf"
        config.write_text(f"[global]\npid = {self.dir}/php-fpm.pid\nerror_log = {self.logs}/php-fpm.log\n"
                          f"daemonize = no\n[bench]\nuser = root\ngroup = root\nlisten = {self.sock('php')}\n"
                          "listen.mode = 0666\npm = static\npm.max_children = 2\n")
        process = self.processes.start("php-fpm", [self.tool(fpm[-1]), "-F", "-R", "-y", str(config)])
        self.wait_socket(self.sock("php"), process)
        return Service("php", process)

    def python_peer(self, name: str, argv: list[str], port: int) -> Service:
        env = dict(os.environ, PORT=str(port))
        process = self.processes.start(name, argv, env)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(url + "/webhooks/streampixel", process)
        return Service(name, process, url)

    def start_flask(self) -> Service:
        return self.python_peer("flask", [sys.executable, str(BENCH / "peers/flask_app.py")], free_port())

    def start_gunicorn(self) -> Service:
        port = free_port()
        return self.python_peer("gunicorn", [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                             "--chdir", str(BENCH / "peers"), "flask_app:app"], port)

    def start_webhook(self) -> Service:
        hooks = self.dir / "hooks.json"
        hooks.write_text((BENCH / "peers/hooks.json").read_text().replace('"/bin/true"', json.dumps(self.true)))
        port = free_port()
        process = self.processes.start("webhook", [self.tool("webhook"), "-hooks", str(hooks), "-ip", "127.0.0.1",
                                                   "-port", str(port)])
        url = f"http://127.0.0.1:{port}"
        self.wait_http(url + "/hooks/streampixel", process)
        return Service("webhook", process, url)

    # ---- what a row's URL and processes are
    def url(self, row: Row) -> str:
        server, _, path = row.url.partition(":")
        return self.need(server).url + path

    def backend_pids(self, row: Row) -> set[int]:
        kids = children_map()
        pids: set[int] = set()
        for name in row.backend:
            if name == "lighttpd-children":
                pids |= tree(self.services["lighttpd"].process.pid, kids, include_root=False)
            elif name in self.services:
                pids |= tree(self.services[name].process.pid, kids)
        return pids

    def server_pids(self) -> set[int]:
        """The long-lived processes: the servers and what they started in their own session
        (lighttpd's responder, the responder's worker); pixelhook's runners start a session of
        their own, so they are not among these."""
        kids = children_map()
        pids: set[int] = set()
        for service in self.services.values():
            for pid in tree(service.process.pid, kids):
                try:
                    if os.getsid(pid) == service.process.pid:
                        pids.add(pid)
                except ProcessLookupError:
                    pass
        return pids

    def close(self) -> None:
        self.processes.stop_all()
        for pid in processes_running(self.pixelhook, set()):
            try:
                os.kill(pid, signal.SIGTERM)   # a runner still going after the drains: ours
                log(f"stopped handler runner {pid}")
            except ProcessLookupError:
                pass
        if not self.keep:
            shutil.rmtree(self.dir / "spool", ignore_errors=True)
