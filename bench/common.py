"""Helpers shared by bench/*/bench.py: the machine a report was measured on, and reading the
JSON object a `perturbot bench …` command prints."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path


def machine() -> dict:
    """Cores (nproc), CPU model and RAM in GiB, read from /proc where it exists."""
    info = {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "ram_gib": None}
    try:
        info["cores"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    return info


def last_json(stdout: str) -> dict | None:
    """The JSON object a command printed: its last line that starts with `{` (log lines may come
    first), else the whole output; None when neither parses."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        return None
