"""Helpers shared by bench/*/bench.py.

  paths         REPO, REPORT_DIR, PERTURBOT (the release binary), is_executable,
                perturbot_missing
  options       bench_parser (--help = the script's docstring, plus --perturbot),
                add_cloud_options (--data, --out, --raw)
  data          the seeded float32 point clouds of the OT benchmarks: CLOUD_SEED, CLOUD_RECIPE,
                cloud_paths, make_clouds
  running       run_json (a command's JSON object or {"error": ...}), last_json,
                flag_problems, jax_cpu_env; in a peer worker: load_clouds_into_jax,
                peak_rss_bytes
  reporting     machine, describe_machine, versions, describe_perturbot, generated_by,
                md_table, fbytes, write_report, write_outputs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
REPORT_DIR = REPO / "notes" / "bench"
PERTURBOT = REPO / ".build" / "release" / "perturbot"


# ----------------------------------------------------------------------------- paths and options

def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def perturbot_missing(binary: Path) -> bool:
    """True, after saying on stderr how to build it, when `binary` is not an executable file."""
    if is_executable(binary):
        return False
    print(f"error: perturbot binary not found at {binary}\n"
          f"Build it first with `swift build -c release` (in {REPO}), "
          f"or pass --perturbot PATH.", file=sys.stderr)
    return True


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose --help prints `doc` (the script's docstring) as written, with the
    --perturbot option every benchmark has."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--perturbot", type=Path, default=PERTURBOT,
                   help="perturbot binary (default: %(default)s)")
    return p


def add_cloud_options(p: argparse.ArgumentParser, name: str) -> None:
    """--data (default /tmp/perturbot-bench/NAME), --out (default notes/bench/NAME.md) and
    --raw (default DATA/results.json); write_outputs writes the last two."""
    p.add_argument("--data", type=Path, default=Path("/tmp/perturbot-bench") / name,
                   help="folder of the point clouds, generated where absent (default: %(default)s)")
    p.add_argument("--out", type=Path, default=REPORT_DIR / f"{name}.md",
                   help="Markdown report (default: %(default)s)")
    p.add_argument("--raw", type=Path, default=None,
                   help="all measurements as JSON (default: DATA/results.json)")


# ----------------------------------------------------------------------------- point clouds

CLOUD_SEED = 20240607
CLOUD_RECIPE = ("x = N(0, I_d); y = 1.3 * N(0, I_d) + 0.5; float32; "
                "default_rng(SeedSequence([20240607, n, d]))")


def cloud_paths(data: Path, n: int, d: int) -> tuple[Path, Path]:
    return data / f"x_n{n}_d{d}.npy", data / f"y_n{n}_d{d}.npy"


def npy_matches(path: Path, shape: tuple[int, int]) -> bool:
    """Whether `path` holds a C-ordered float32 array of this shape (False when unreadable)."""
    try:
        a = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return a.shape == shape and a.dtype == np.float32 and a.flags.c_contiguous


def save_npy(path: Path, a: np.ndarray) -> None:
    """Writes `a` as C-ordered float32 through a temporary file, so that an interrupted run
    leaves no truncated cloud that a later run would reuse."""
    tmp = path.with_name(path.name + ".partial.npy")
    np.save(tmp, np.ascontiguousarray(a, dtype=np.float32))
    os.replace(tmp, path)


def make_clouds(data: Path, n: int, d: int) -> tuple[Path, Path, bool]:
    """Writes x and y of case (n, d) (CLOUD_RECIPE, n = m) unless files of the right shape exist;
    returns (x, y, made)."""
    xp, yp = cloud_paths(data, n, d)
    if npy_matches(xp, (n, d)) and npy_matches(yp, (n, d)):
        return xp, yp, False
    data.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([CLOUD_SEED, n, d]))
    x = rng.standard_normal((n, d), dtype=np.float32)
    y = np.float32(1.3) * rng.standard_normal((n, d), dtype=np.float32) + np.float32(0.5)
    save_npy(xp, x)
    save_npy(yp, y)
    return xp, yp, True


# ----------------------------------------------------------------------------- running

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


def run_json(cmd: list[str], timeout: float | None, env: dict | None = None, *,
             quote_failure: bool = False) -> dict:
    """Runs cmd (echoed as `+ cmd`), returns the JSON object it printed with
    "process_wall_seconds" added, or {"error": ...} when it times out, cannot start, fails or
    prints no JSON (then the tail of its output goes to stderr).

    quote_failure: a failed run's error also quotes the command's own message (its first line
    that starts with "error", else its last line, at most 200 characters), so that the report
    says why."""
    print("+", shlex.join(cmd), flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {timeout:.0f} s"}
    except OSError as e:
        return {"error": f"cannot run it: {e}"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        msg = f"exit status {proc.returncode}"
        if quote_failure:
            lines = [ln.strip() for ln in (proc.stderr.strip() or proc.stdout.strip()).splitlines()
                     if ln.strip()]
            said = next((ln for ln in lines if ln.lower().startswith("error")),
                        lines[-1] if lines else "")
            if said:
                msg += f": {said[:200]}"
        # the error lands in a Markdown table cell, where a bare `|` would split the row
        return {"error": msg.replace("|", "\\|")}
    res = last_json(proc.stdout)
    if res is None:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        return {"error": "no JSON object in its output"}
    res["process_wall_seconds"] = wall
    return res


def flag_problems(res: dict, problems: list[str]) -> dict:
    """When there are problems with perturbot's output, warns on stderr and records them in
    res["problems"] (the report shows them); returns res."""
    if problems:
        print("warning: perturbot output: " + "; ".join(problems), file=sys.stderr)
        res["problems"] = problems
    return res


def jax_cpu_env() -> dict:
    """This process's environment for a JAX peer worker: the CPU backend, and JAX_ENABLE_X64
    removed so that the peer computes in float32 as perturbot does."""
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    env.pop("JAX_ENABLE_X64", None)
    return env


def load_clouds_into_jax(x_path: str | Path, y_path: str | Path):
    """In a JAX peer worker: selects the CPU backend (unless JAX_PLATFORMS names one), turns
    64-bit types off, and returns the two clouds as float32 device arrays."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax is imported: it reads it once
    import jax
    jax.config.update("jax_enable_x64", False)
    import jax.numpy as jnp

    x = jax.device_put(np.load(x_path))
    y = jax.device_put(np.load(y_path))
    assert x.dtype == jnp.float32 and y.dtype == jnp.float32, (x.dtype, y.dtype)
    return x, y


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (ru_maxrss)."""
    import resource
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


# ----------------------------------------------------------------------------- reporting

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


def describe_machine(m: dict) -> str:
    """machine() in words: `N cores (nproc), CPU, R GiB RAM`."""
    return (f"{m['cores']} cores (nproc), {m['cpu']}, "
            + (f"{m['ram_gib']:.1f} GiB RAM" if m["ram_gib"] else "RAM unknown"))


def versions(binary: Path, packages: Iterable[str]) -> dict:
    """The python version, the installed version of each of `packages` ("not installed" when
    absent), the repository's commit as "perturbot" (marked when Sources or the package
    manifests differ from it, as the binary may then be built from other code) and, where
    `binary` exists, "perturbot_binary": its path and build time."""
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                "Sources", "Package.swift", "Package.resolved"],
                               capture_output=True, text=True).stdout.strip()
        out["perturbot"] = commit + (" (Sources modified)" if dirty else "")
    except OSError:
        out["perturbot"] = "unknown"
    try:
        mtime = dt.datetime.fromtimestamp(binary.stat().st_mtime)
        out["perturbot_binary"] = f"`{binary}` built {mtime.strftime('%Y-%m-%d %H:%M')}"
    except OSError:
        pass
    return out


def describe_perturbot(v: dict) -> str:
    """The perturbot part of versions() in words: `perturbot commit C[, `BINARY` built T]`."""
    return (f"perturbot commit {v['perturbot']}"
            + (f", {v['perturbot_binary']}" if "perturbot_binary" in v else ""))


def generated_by(script: str, wall_seconds: float) -> str:
    """`Generated by `SCRIPT ARGS…` on DATE (whole run M min).` for a report's first line; ARGS
    are this process's arguments, so the line is the command that reproduces the report."""
    cmdline = shlex.join([script] + sys.argv[1:])
    return (f"Generated by `{cmdline}` on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} "
            f"(whole run {wall_seconds / 60:.1f} min).")


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a Markdown table."""
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(r) + " |" for r in rows])


def fbytes(v) -> str:
    """A byte count in MiB, `—` for None."""
    return "—" if v is None else f"{v / 2**20:,.0f} MiB"


def write_report(doc: str, path: Path) -> None:
    """Prints the Markdown report and writes it to `path`, making its folder."""
    print()
    print(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc)


def write_outputs(doc: str, args: argparse.Namespace, **fields) -> None:
    """For a script with add_cloud_options: prints the report `doc` and writes it to --out, and
    {"args": the options (paths as strings), **fields} as indented JSON to --raw (default
    DATA/results.json), making their folders; then says where."""
    write_report(doc, args.out)
    raw = args.raw or args.data / "results.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"args": {k: (str(x) if isinstance(x, Path) else x)
                                        for k, x in vars(args).items()},
                               **fields}, indent=1) + "\n")
    print(f"wrote {args.out} and {raw}")
