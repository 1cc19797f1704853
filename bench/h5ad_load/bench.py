"""Benchmark: loading X of a large CSR .h5ad with anndata vs `perturbot bench h5ad-load`.

What it does
  1. Generates (once; reused while its shape and nnz match) a 200,000 x 2,000 CSR float32
     AnnData with 5 % density (100 nonzeros per row, 20 M in all; seeded), written with
     anndata's write_h5ad without compression, at --data
     (default /tmp/perturbot-bench/csr_200k_2k.h5ad).
  2. Times, after one warm-up read (so the OS page cache is warm for every contender):
       anndata.read_h5ad(path)                best of --repeat
       anndata.read_h5ad(path).X.toarray()    best of --repeat (dense, like perturbot)
       perturbot bench h5ad-load PATH --repeat N --json
     perturbot prints {"seconds_best", "seconds_all", "n_obs", "n_vars", "x_sum"}; it loads
     X densely as Float32.
  3. Prints a Markdown table (machine, versions, timings, ratio, x_sum agreement) and
     writes it to --report (default notes/bench/h5ad_load.md).

Run it through run.sh, which provides a venv with anndata, scipy and numpy:
    swift build -c release
    bench/h5ad_load/run.sh [--perturbot PATH] [--data PATH] [--repeat N] [--regenerate]
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402  (bench/common.py)
    REPORT_DIR, bench_parser, describe_machine, last_json, machine, md_table, perturbot_missing,
    write_report)

import numpy as np

SEED = 7


# ----------------------------------------------------------------------------- data

def file_matches(path: Path, n_obs: int, n_vars: int, nnz: int) -> bool:
    import h5py
    try:
        with h5py.File(path, "r") as f:
            x = f["X"]
            enc = x.attrs.get("encoding-type")
            enc = enc.decode() if isinstance(enc, bytes) else enc
            return (enc == "csr_matrix" and tuple(int(s) for s in x.attrs["shape"]) == (n_obs, n_vars)
                    and x["data"].shape == (nnz,) and x["data"].dtype == np.float32)
    except (OSError, KeyError):
        return False


def generate(path: Path, n_obs: int, n_vars: int, per_row: int) -> None:
    """CSR float32 with exactly `per_row` distinct random columns in every row."""
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    nnz = n_obs * per_row
    indices = np.empty(nnz, dtype=np.int32)
    block = max(1, 2_000_000 // n_vars)  # rows per block: ~8 MB of float32 keys
    for start in range(0, n_obs, block):
        stop = min(n_obs, start + block)
        keys = rng.random((stop - start, n_vars), dtype=np.float32)
        # the per_row smallest random keys of a row = a uniform sample without replacement
        cols = np.argpartition(keys, per_row - 1, axis=1)[:, :per_row]
        cols.sort(axis=1)
        indices[start * per_row: stop * per_row] = cols.ravel()
    data = (rng.exponential(1.0, size=nnz) + 0.01).astype(np.float32)
    indptr = np.arange(0, nnz + 1, per_row, dtype=np.int64)
    X = sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))

    drugs = np.array(["control", "cisplatin", "ixazomib", "melphalan"])
    obs = pd.DataFrame(index=[f"cell_{i}" for i in range(n_obs)])
    obs["drug"] = pd.Categorical(drugs[rng.integers(0, len(drugs), size=n_obs)], categories=drugs)
    var = pd.DataFrame(index=[f"feature_{j}" for j in range(n_vars)])
    adata = ad.AnnData(X=X, obs=obs, var=var)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    adata.write_h5ad(tmp)  # no compression
    os.replace(tmp, path)
    print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")


# ----------------------------------------------------------------------------- timing

def best_of(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        del result
    gc.collect()
    return min(times), times


def run_perturbot(binary: Path, data: Path, repeat: int) -> dict:
    cmd = [str(binary), "bench", "h5ad-load", str(data), "--repeat", str(repeat), "--json"]
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"perturbot failed with exit status {proc.returncode}")
    result = last_json(proc.stdout)
    if result is None:
        sys.exit(f"could not parse perturbot's JSON output:\n{proc.stdout}")
    return result


# ----------------------------------------------------------------------------- main

def main() -> int:
    p = bench_parser(__doc__)
    p.add_argument("--data", type=Path, default=Path("/tmp/perturbot-bench/csr_200k_2k.h5ad"),
                   help="benchmark file, generated if absent (default: %(default)s)")
    p.add_argument("--report", type=Path, default=REPORT_DIR / "h5ad_load.md",
                   help="Markdown output (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--n-obs", type=int, default=200_000)
    p.add_argument("--n-vars", type=int, default=2_000)
    p.add_argument("--density", type=float, default=0.05)
    p.add_argument("--regenerate", action="store_true", help="rewrite the benchmark file")
    args = p.parse_args()

    if perturbot_missing(args.perturbot):
        return 1

    import anndata as ad
    from importlib.metadata import version

    per_row = max(1, round(args.density * args.n_vars))
    nnz = args.n_obs * per_row
    if args.regenerate or not file_matches(args.data, args.n_obs, args.n_vars, nnz):
        generate(args.data, args.n_obs, args.n_vars, per_row)
    else:
        print(f"reusing {args.data}")
    size_mb = args.data.stat().st_size / 1e6

    print("warm-up read ...", flush=True)
    warm = ad.read_h5ad(args.data)
    ref_sum = float(warm.X.data.astype(np.float64).sum())
    n_obs, n_vars, enc = warm.n_obs, warm.n_vars, type(warm.X).__name__
    del warm

    print("timing anndata.read_h5ad ...", flush=True)
    read_best, read_all = best_of(lambda: ad.read_h5ad(args.data), args.repeat)
    print("timing anndata.read_h5ad(...).X.toarray() ...", flush=True)
    dense_best, dense_all = best_of(lambda: ad.read_h5ad(args.data).X.toarray(), args.repeat)

    pb = run_perturbot(args.perturbot, args.data, args.repeat)
    pb_best = float(pb["seconds_best"])
    pb_sum = float(pb["x_sum"])
    rel = abs(pb_sum - ref_sum) / max(abs(ref_sum), 1e-300)
    shape_ok = (int(pb["n_obs"]), int(pb["n_vars"])) == (n_obs, n_vars)
    sums_ok = rel < 1e-5  # perturbot holds Float32 values; summation order differs

    m = machine()
    fmt = lambda xs: ", ".join(f"{x:.3f}" for x in xs)
    rows = [
        ("machine", describe_machine(m)),
        ("data", f"`{args.data}`: {n_obs:,} x {n_vars:,} CSR float32 ({enc}), "
                 f"{nnz:,} nonzeros, {size_mb:.0f} MB, uncompressed"),
        ("python / anndata / h5py", f"{platform.python_version()} / {version('anndata')} / {version('h5py')}"),
        (f"anndata `read_h5ad` (best of {args.repeat})", f"{read_best:.3f} s  ({fmt(read_all)})"),
        (f"anndata `read_h5ad(...).X.toarray()` (best of {args.repeat})", f"{dense_best:.3f} s  ({fmt(dense_all)})"),
        (f"perturbot dense Float32 load (best of {args.repeat})",
         f"{pb_best:.3f} s  ({fmt(float(x) for x in pb.get('seconds_all', []))})"),
        ("perturbot / anndata `read_h5ad`", f"{pb_best / read_best:.2f}x"),
        ("perturbot / anndata `read_h5ad` + `toarray`", f"{pb_best / dense_best:.2f}x"),
        ("x_sum (anndata float64 / perturbot)",
         f"{ref_sum:.6f} / {pb_sum:.6f}, rel. diff {rel:.1e}: "
         + ("agree" if sums_ok else "**DISAGREE**")
         + ("" if shape_ok else f"; **shape mismatch**: perturbot {pb['n_obs']} x {pb['n_vars']}")),
    ]
    table = md_table(["quantity", "value"], [[k, v] for k, v in rows])
    doc = "\n".join([
        "# h5ad load benchmark",
        "",
        f"Generated by `bench/h5ad_load/run.sh` on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}. "
        "Page cache warm (one untimed read first); times are wall-clock seconds.",
        f"perturbot command: `{args.perturbot.name} bench h5ad-load PATH --repeat {args.repeat} --json`",
        "",
        *table,
        "",
    ])
    write_report(doc, args.report)
    print(f"wrote {args.report}")
    return 0 if (sums_ok and shape_ok) else 2


if __name__ == "__main__":
    sys.exit(main())
