#!/usr/bin/env python3
"""Writes a spool directly in pixelhook's on-disk format (docs/spool.md), fast, with no
HTTP: for timing the commands that read it.

  bench/big-spool.py builds SPOOL N     N finished builds of one project (6 events each,
                                        every result done) and their requests.log lines, for
                                        `retry`, `builds --limit`, the metrics and status page
  bench/big-spool.py one-build SPOOL N  one build holding N webhook.test deliveries with no
                                        result yet, listed in pending/: what a drain runs

Then, for example:
  PIXELHOOK_SPOOL=SPOOL PIXELHOOK_PROJECT_IDS=p1 pixelhook retry --dry-run
"""
import json
import os
import sys

PROJECT = "p1"
STAGES = [
    ("build.uploaded", "pending"), ("build.downloading", "Downloading Files"),
    ("build.extracting", "Extracting & Scanning"), ("build.saving", "Saving to Repository"),
    ("build.distributing", "Distribute"), ("build.approved", "Approved"),
]
RESULT = json.dumps({
    "state": "done", "handler": "/h/default", "exitCode": 0, "signal": None,
    "startedAt": "2026-03-29T14:30:00.000Z", "durationMs": 3, "outputBytes": 0,
    "outputTruncated": False, "detail": None,
}, separators=(",", ":")) + "\n"


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, text.encode())
    os.close(fd)


def body(event, status, upload):
    return json.dumps({
        "event": event, "projectId": PROJECT, "uploadId": upload, "fileUrl": None,
        "status": status, "objection": None, "timestamp": "2026-03-29T14:30:00.000Z",
    }, separators=(",", ":"))


def prepare(spool):
    for name in ["", "deliveries", "slots", "runners", "pending"]:
        os.makedirs(os.path.join(spool, name), mode=0o700, exist_ok=True)


def builds(spool, count):
    prepare(spool)
    base = 1_774_000_000  # build i was active at base + 60 i seconds
    log = []
    for index in range(count):
        upload = "u%06d" % index
        directory = os.path.join(spool, "deliveries", PROJECT, upload)
        os.makedirs(directory, mode=0o700)
        events = []
        for event, status in STAGES:
            payload = os.path.join(directory, event + ".json")
            write(payload, body(event, status, upload), 0o400)
            write(os.path.join(directory, event + ".result"), RESULT)
            os.utime(payload, (base + 60 * index, base + 60 * index))
            events.append(event)
        write(os.path.join(directory, ".arrivals"), "".join(e + "\n" for e in events))
        write(os.path.join(directory, ".lock"), "")  # made by the build's first runner
        os.utime(directory, (base + 60 * index, base + 60 * index))
        log.extend(log_line(event, upload) for event in events)
    # The request log such a spool's requests wrote: what the metrics and `log` read.
    write(os.path.join(spool, "requests.log"), "".join(log))


def log_line(event, upload):
    return json.dumps({
        "time": "2026-03-29T14:30:00.000Z", "remote": "127.0.0.1", "method": "POST", "status": 200,
        "event": event, "projectId": PROJECT, "uploadId": upload, "outcome": "stored",
    }, separators=(",", ":")) + "\n"


def one_build(spool, count):
    prepare(spool)
    directory = os.path.join(spool, "deliveries", PROJECT, "u-test")
    os.makedirs(directory, mode=0o700)
    stems = []
    for index in range(count):
        stem = "webhook.test~n%08d" % index
        write(os.path.join(directory, stem + ".json"), body("webhook.test", "test", "u-test"), 0o400)
        stems.append(stem)
    write(os.path.join(directory, ".arrivals"), "".join(s + "\n" for s in stems))
    os.link(os.path.join(directory, ".arrivals"), os.path.join(spool, "pending", PROJECT + ":u-test"))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("builds", "one-build"):
        sys.exit(__doc__.strip())
    {"builds": builds, "one-build": one_build}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
