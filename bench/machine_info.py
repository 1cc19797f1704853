"""What the benchmark reports say about the machine they ran on (shared by bench/*/bench.py)."""

from __future__ import annotations

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
