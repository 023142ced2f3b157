"""The shipped nginx and lighttpd examples, rendered for a run (the substitutions their headers
list, as Tests/IntegrationTests/WebServerFixture.swift makes them), plus the bench's locations."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .paths import BENCH, CGI_PATH, FASTCGI_PATH, LIGHTTPD_EXAMPLE, NGINX_EXAMPLE
from .processes import BenchError

if TYPE_CHECKING:
    from .services import Run


def substitute(text: str, pairs: list[tuple[str, str]], source: Path) -> str:
    for old, new in pairs:
        if old not in text:
            raise BenchError(f"{source.name} no longer contains {old!r}: update its header and bench.py")
        text = text.replace(old, new)
    return text


def location_block(lines: list[str], path: str) -> list[str]:
    """nginx: the `location = PATH { ... }` lines, closing brace included."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"location = {path} {{")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = next(i for i in range(start, len(lines)) if lines[i] == indent + "}")
    return lines[start:end + 1]


def copied_location(block: list[str], path: str, upstream: str, script: str | None) -> list[str]:
    """A copy of a shipped location for a floor or a peer: only its path, its upstream and
    its SCRIPT_FILENAME differ (pixelhook's own PIXELHOOK_* lines stay: harmless variables)."""
    out = []
    for line in block:
        text = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if text.startswith("location = "):
            out.append(f"{indent}location = {path} {{")
        elif text.startswith("fastcgi_pass "):
            out.append(f"{indent}fastcgi_pass unix:{upstream};")
            if script and not any(b.strip().startswith("fastcgi_param SCRIPT_FILENAME") for b in block):
                out.append(f"{indent}fastcgi_param SCRIPT_FILENAME {script};")
        elif text.startswith("fastcgi_param SCRIPT_FILENAME"):
            out.append(f"{indent}fastcgi_param SCRIPT_FILENAME {script};")
        else:
            out.append(line)
    return out


def with_settings(block: list[str], settings: dict[str, str]) -> list[str]:
    """nginx: a location with its `fastcgi_param PIXELHOOK_X` lines (set or commented out in
    the example) set to these values."""
    out = []
    for line in block:
        text = line.strip().lstrip("#").strip()
        indent = line[: len(line) - len(line.lstrip())]
        key = text.split()[1] if text.startswith("fastcgi_param ") and len(text.split()) > 1 else None
        out.append(f"{indent}fastcgi_param {key} {settings[key]};" if key in settings else line)
    missing = set(settings) - {l.split()[1] for l in out if l.strip().startswith("fastcgi_param ")}
    if missing:
        raise BenchError(f"nginx.conf.example has no line for {', '.join(sorted(missing))}")
    return out


def render_nginx(run: "Run", port: int) -> str:
    """nginx.conf.example with the test fixture's substitutions, plus the bench's locations."""
    text = substitute(NGINX_EXAMPLE.read_text(), [
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("user www-data;", "user root;"),
        ("/run/nginx.pid", str(run.dir / "nginx.pid")),
        ("/var/log/nginx", str(run.logs)),
        ("/var/lib/nginx", str(run.dir / "nginx")),
        ("/run/fcgiwrap.socket", str(run.sock("fcgiwrap"))),
        ("/run/pixelhook/pixelhook.sock", str(run.sock("responder"))),
        ("/usr/local/bin/pixelhook", str(run.pixelhook)),
        ("/var/spool/pixelhook", str(run.spool("nginx"))),
        ("/etc/pixelhook/handlers", str(run.handlers)),
    ], NGINX_EXAMPLE)
    lines = text.split("\n")
    fastcgi = location_block(lines, FASTCGI_PATH)
    cgi = location_block(lines, CGI_PATH)
    extra = ["        location = /l0 { default_type application/json; return 200 '{\"received\":true}'; }"]
    extra += copied_location(fastcgi, "/f1", str(run.sock("f1")), None)
    extra += copied_location(fastcgi, "/f1n", str(run.sock("f1n")), None)
    extra += copied_location(fastcgi, "/f1s", str(run.sock("f1s")), None)
    extra += copied_location(cgi, "/c2", str(run.sock("fcgiwrap")), str(run.cgi_floor))
    extra += copied_location(fastcgi, "/p4", str(run.sock("php")), str(BENCH / "peers/php/index.php"))
    extra += copied_location(fastcgi, "/p4x", str(run.sock("php")), str(BENCH / "peers/php/exec.php"))
    extra += with_settings(copied_location(fastcgi, "/burst", str(run.sock("responder")), None), run.burst_settings("nginx"))
    end = max(i for i, line in enumerate(lines) if line.strip() == "}")   # the http block's brace
    server_end = max(i for i in range(end) if lines[i].strip() == "}")     # the server block's
    return "\n".join(lines[:server_end] + extra + lines[server_end:])


def render_lighttpd(run: "Run", port: int) -> str:
    text = substitute(LIGHTTPD_EXAMPLE.read_text(), [
        ("8080", str(port)),
        ('"0.0.0.0"', '"127.0.0.1"'),
        ("/usr/local/bin/pixelhook", str(run.pixelhook)),
        ("/var/spool/pixelhook", str(run.spool("lighttpd"))),
        ("/etc/pixelhook/handlers", str(run.handlers)),
        ("/var/log/lighttpd", str(run.logs)),
        ("/run/lighttpd", str(run.dir / "lighttpd")),
    ], LIGHTTPD_EXAMPLE)
    lines = ["# " + line if line.lstrip().startswith(("server.username", "server.groupname")) else line
             for line in text.split("\n")]
    lines += [f'$HTTP["url"] == "/cgi_floor" {{',
              f'    alias.url  = ( "/cgi_floor" => "{run.cgi_floor}" )',
              '    cgi.assign = ( "" => "" )', "}"]
    settings = ", ".join(f'"{k}" => "{v}"' for k, v in run.burst_settings("lighttpd").items())
    lines += [f'$HTTP["url"] == "/burst" {{',
              f'    alias.url  = ( "/burst" => "{run.pixelhook}" )',
              '    cgi.assign = ( "" => "" )',
              f'    setenv.add-environment = ( {settings}, "PIXELHOOK_PROJECT_IDS" => "{run.project}" )', "}"]
    return "\n".join(lines) + "\n"
