"""ProgOT settings sweep: map error and Sinkhorn cost of each setting on problems with a known map.

    python bench/progot/sweep.py [--perturbot PATH] [--cases gaussian8,gmm64] [--out FILE]

For each case (seeded numpy data written as CSV under --data) and each setting below, runs
`perturbot ot --map progot --json --set ...` (and `--map eot`, tuned ε, as the reference), then
scores the transported test points against the true map: MSE = mean over test points of
‖T̂(x) − T₀(x)‖² (summed over coordinates, as the ProgOT paper's Table 5); the ratio of the total
variance of T̂(x) to that of T₀(x) (below 1: the map contracts, the entropic bias); and the
non-affine error, the mean squared residual of T̂(x) after the best affine fit on T₀(x) (the part
of the error no shrinkage or shift explains: sampling noise). Also records the fit's
wall time, the Sinkhorn iterations of the steps and of the ε search, and how many steps did not
converge. Cases:
  gaussian8  source N(m₁, Σ₁) → target N(m₂, Σ₂) in d = 8, n = 1500 each, 500 test points;
             T₀ is the Bures map (the case of the issue that reported progot 2.55 vs eot 1.19).
  gmmD       `perturbot generate map-benchmark --dim D` (the GMM benchmark), when that command
             exists: source/target rows of obsm gmm_dD, true images in obsm true_map_dD.
The table goes to stdout and to --out (Markdown).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import PERTURBOT, REPO, describe_machine, machine, md_table, write_report  # noqa: E402

# name → --set assignments (on top of `perturbot ot`'s defaults: threshold 1e-3, 2000 iterations)
OLD = ["warm_start=false", "start_threshold=0.001"]  # one threshold for every step, cold starts
SETTINGS: dict[str, list[str]] = {
    "K16 lin (old default)": ["steps=16"] + OLD,
    "K16 lin warm": ["steps=16", "warm_start=true", "start_threshold=0.001"],
    "K16 lin start 0.5": ["steps=16", "start_epsilon_scale=0.5"] + OLD,
    "K16 lin thr 1e-2→1e-3": ["steps=16", "warm_start=false", "start_threshold=0.01"],
    "K16 lin warm thr 1e-2→1e-3": ["steps=16", "warm_start=true", "start_threshold=0.01"],
    "K8 lin": ["steps=8"] + OLD,
    "K8 lin warm thr 1e-2→1e-3": ["steps=8", "warm_start=true", "start_threshold=0.01"],
    "K4 lin": ["steps=4"] + OLD,
    "K4 exp": ["steps=4", "alpha=exp"] + OLD,
    "K4 quad": ["steps=4", "alpha=quad"] + OLD,
    "K4 lin start 0.5": ["steps=4", "start_epsilon_scale=0.5"] + OLD,
    "K4 lin warm": ["steps=4", "warm_start=true", "start_threshold=0.001"],
    "K4 lin warm thr 1e-2→1e-3 (new default)": ["steps=4", "warm_start=true", "start_threshold=0.01"],
    "K4 quad warm thr 1e-2→1e-3": ["steps=4", "alpha=quad", "warm_start=true", "start_threshold=0.01"],
    "K4 lin debiased": ["steps=4", "debiased=true", "start_threshold=0.001"],
    "K2 lin warm thr 1e-2→1e-3": ["steps=2", "warm_start=true", "start_threshold=0.01"],
    "K4 quad warm thr 1e-2→1e-3 clamp": ["steps=4", "alpha=quad", "warm_start=true", "start_threshold=0.01",
                                         "start_at_least_end=true"],
}


def bures_case(rng: np.random.Generator, d: int, n: int, n_test: int):
    def factor():
        return 0.5 * rng.standard_normal((d, d)) + 0.8 * np.eye(d)

    l1, l2 = factor(), factor()
    s1, s2 = l1 @ l1.T, l2 @ l2.T
    w, v = np.linalg.eigh(s1)
    root = v @ np.diag(np.sqrt(w)) @ v.T
    inv_root = v @ np.diag(1 / np.sqrt(w)) @ v.T
    w2, v2 = np.linalg.eigh(root @ s2 @ root)
    a = inv_root @ (v2 @ np.diag(np.sqrt(w2)) @ v2.T) @ inv_root
    m1, m2 = rng.standard_normal(d), 2 * rng.standard_normal(d)
    x = rng.standard_normal((n, d)) @ l1.T + m1
    y = rng.standard_normal((n, d)) @ l2.T + m2
    q = rng.standard_normal((n_test, d)) @ l1.T + m1
    truth = (q - m1) @ a.T + m2
    return x, y, q, truth


def gmm_case(binary: Path, data: Path, d: int):
    import h5py  # only this case needs it

    path = data / f"map-benchmark-d{d}.h5ad"
    if not path.exists():
        subprocess.run([str(binary), "generate", "map-benchmark", "--dim", str(d), "--seed", "0", "--out", str(path)],
                       check=True, capture_output=True)
    with h5py.File(path, "r") as f:
        points = f[f"obsm/gmm_d{d}"][()].astype(np.float64)
        truth_all = f[f"obsm/true_map_d{d}"][()].astype(np.float64)
        codes = f["obs/condition/codes"][()]
        categories = [c.decode() if isinstance(c, bytes) else c for c in f["obs/condition/categories"][()]]
    labels = np.array([categories[c] for c in codes])
    source, target = np.where(labels == "source")[0], np.where(labels == "target")[0]
    test, train = source[:500], source[500:]
    return points[train], points[target], points[test], truth_all[test]


def write_case(case_dir: Path, x, y, q, truth) -> None:
    """The CSV files `run` reads: source x, target y, test points q and their true images."""
    case_dir.mkdir(parents=True, exist_ok=True)
    for name, a in (("x", x), ("y", y), ("q", q), ("truth", truth)):
        np.savetxt(case_dir / f"{name}.csv", a, delimiter=",", fmt="%.9g")


def run(binary: Path, case_dir: Path, method: str, assignments: list[str]) -> dict:
    out = case_dir / "pred.csv"
    cmd = [str(binary), "ot", "--source", str(case_dir / "x.csv"), "--target", str(case_dir / "y.csv"),
           "--map", method, "--apply", str(case_dir / "q.csv"), "--out", str(out), "--json", "--seed", "0"]
    for a in assignments:
        cmd += ["--set", a]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])["map"]
    pred = np.loadtxt(out, delimiter=",", ndmin=2)
    truth = np.loadtxt(case_dir / "truth.csv", delimiter=",", ndmin=2)
    steps = result.get("steps", [])
    own = [s for s in steps if s["role"] in ("progot_step", "transport")]
    search = [s for s in steps if s["role"] == "epsilon_search"]
    # Scatter of the predictions around the best affine function of the truth: 0 for any affine
    # distortion of T₀ (shrinkage, shift), so on the Gaussian case (T₀ affine) it is the part of
    # the error that is noise from the finite samples rather than entropic bias.
    design = np.c_[truth, np.ones(len(truth))]
    residual = pred - design @ np.linalg.lstsq(design, pred, rcond=None)[0]
    return {
        "mse": float(np.mean(np.sum((pred - truth) ** 2, axis=1))),
        "variance_ratio": float(np.trace(np.cov(pred.T)) / np.trace(np.cov(truth.T))),
        "non_affine": float(np.mean(np.sum(residual ** 2, axis=1))),
        "seconds": result["fit_seconds"], "wall": wall,
        "iterations": sum(s["iterations"] for s in own),
        "search_iterations": sum(s["iterations"] for s in search),
        "unconverged": sum(not s["converged"] for s in steps),
        "last_epsilon": own[-1]["epsilon"] if own else float("nan"),
        "max_step_iterations": max((s["iterations"] for s in own), default=0),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--perturbot", type=Path, default=PERTURBOT)
    p.add_argument("--cases", default="gaussian8")
    p.add_argument("--settings", default="", help="comma-separated setting names (default: all)")
    p.add_argument("--data", type=Path, default=Path("/tmp/perturbot-progot-sweep"))
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    wanted = [s for s in args.settings.split(",") if s] or list(SETTINGS)
    lines = ["# ProgOT settings sweep", "", f"Machine: {describe_machine(machine())}.", "",
             "Generated by `python bench/progot/sweep.py " + " ".join(sys.argv[1:]) + "`.", ""]
    for case in args.cases.split(","):
        case_dir = args.data / case
        case_dir.mkdir(parents=True, exist_ok=True)
        if case.startswith("gaussian"):
            x, y, q, truth = bures_case(np.random.default_rng(8), int(case[len("gaussian"):]), 1500, 500)
        elif case.startswith("gmm"):
            x, y, q, truth = gmm_case(args.perturbot, args.data, int(case[len("gmm"):]))
        else:
            raise SystemExit(f"unknown case {case}")
        write_case(case_dir, x, y, q, truth)
        rows = []
        for label, method, assignments in [("eot (tuned ε)", "eot", []), ("untuned", "untuned", [])] + [
                (name, "progot", SETTINGS[name]) for name in wanted]:
            r = run(args.perturbot, case_dir, method, assignments)
            if "error" in r:
                rows.append([label, "error: " + r["error"]] + [""] * 8)
            else:
                rows.append([label, f"{r['mse']:.4f}", f"{r['variance_ratio']:.3f}", f"{r['non_affine']:.3f}",
                             f"{r['seconds']:.2f}", str(r["iterations"]),
                             str(r["max_step_iterations"]), str(r["search_iterations"]), str(r["unconverged"]),
                             f"{r['last_epsilon']:.4g}"])
            print(case, *rows[-1], sep=" | ", flush=True)
        lines += [f"## {case} (n = {len(x)} → {len(y)}, d = {x.shape[1]}, {len(q)} test points)", ""]
        lines += md_table(["setting", "MSE", "Var T̂ / Var T₀", "non-affine error", "fit s", "Sinkhorn iterations (steps)", "most in one step",
                           "ε-search iterations", "runs not converged", "last ε"], rows)
        lines.append("")
    text = "\n".join(lines) + "\n"
    if args.out:
        write_report(text, args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
