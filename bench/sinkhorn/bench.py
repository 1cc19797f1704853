"""Benchmark: entropic OT (log-domain Sinkhorn) — `perturbot bench sinkhorn` vs POT vs OTT-JAX (CPU).

What it does
  1. Point clouds (generated once, reused while shape and dtype match), for every n = m in
     --sizes (default 1000 4096 16384) and d in --dims (default 16 64), float32, C order,
     seeded (numpy default_rng(SeedSequence([20240607, n, d]))):
         x = N(0, I_d)                       n x d
         y = 1.3 * N(0, I_d) + 0.5           m x d   (every coordinate shifted by 0.5)
     saved as x_n{n}_d{d}.npy / y_n{n}_d{d}.npy under --data (default /tmp/perturbot-bench/sinkhorn).
     Plus the large case n = m = --large-n (default 50,000), d = 64, the same recipe.
  2. A fixed epsilon per case, computed once in numpy float64 and passed as a number to all
     three solvers: eps = 0.05 * population std (ddof=0) of the n*m entries of
     C_ij = ||x_i - y_j||^2 (OTT-JAX's default rule). The std is computed exactly from moments
     in O((n+m) d^2) (E[C] and E[C^2] expand into |x|^2, |y|^2, x.y sums and the d x d second-
     moment matrices: E_ij[(x_i.y_j)^2] = <Sx, Sy>_F), cross-checked against the explicit
     matrix when n*m <= 2.5e7. Cached beside the data as eps_n{n}_d{d}.json.
  3. Solves every case with the same eps, threshold (default 1e-3) and max iterations (2000):
       perturbot  `perturbot bench sinkhorn --source X.npy --target Y.npy --epsilon E
                   --threshold T --max-iterations N --precision float --mode automatic
                   --repeat R --json` (best of R, timed inside perturbot: cost matrix + solve,
                   file load excluded). Its stdout is one JSON object with
                   n, m, d, precision, mode ("dense"|"online", resolved), epsilon, threshold,
                   seconds (best), seconds_all, iterations, converged, reg_ot_cost,
                   marginal_error, peak_rss_bytes, threads.
       OTT-JAX    float32 (x64 off), JAX_PLATFORMS=cpu: PointCloud(x, y, epsilon=eps
                   [, batch_size=B]) (cost SqEuclidean = ||x-y||^2, no 1/2),
                   Sinkhorn(threshold=T, max_iterations=N, lse_mode=True), the whole solve in
                   one jax.jit (cost matrix included); the first call (compile + run) is timed
                   separately, then best of R further calls (block_until_ready).
       POT        float32: M = ot.dist(x, y) (sqeuclidean, |x|^2+|y|^2-2x.y clamped at 0, no
                   1/2) then ot.sinkhorn(a, b, M, reg=eps, method='sinkhorn_log', stopThr=T,
                   numItermax=N, log=True); the timed region includes ot.dist; best of R.
     Each peer runs in its own subprocess (this file with `_worker`), so its peak RSS
     (getrusage ru_maxrss, includes the interpreter, the libraries and the loaded data) and its
     thread pools are its own. Each peer first runs a short probe (--probe-iterations, default
     20, with threshold 0 so it runs them all) that gives seconds per iteration and warms up;
     when probe-s/iter x (perturbot's iteration count, else max iterations) would exceed
     --budget seconds (default 240) for one run, the full run is skipped and the row shows
     the probe's seconds per iteration, marked "extrapolated"; the time ratio of that row is
     then the per-iteration ratio. Otherwise as many of the R repeats as fit in the budget.
  4. The large case (n = m = --large-n, d = 64): perturbot only, `--mode online`, --large-repeat
     runs (default 1): wall time, iterations and peak RSS.
  5. Prints a Markdown table and writes it, with the machine, versions, command line,
     epsilon values, the issue's aims and notes on the stopping criteria, to --out
     (default notes/bench/sinkhorn.md); every measurement as JSON to --raw
     (default DATA/results.json).

Stopping criteria (read from the installed sources: ott/solvers/linear/sinkhorn.py and
ott/math/fixed_point_loop.py of ott-jax 0.6.0; ot/bregman/_sinkhorn.py of POT 0.9.7.post1)
  perturbot  L1 error of the column marginal, sum_j |sum_i P_ij - b_j| < threshold, after a
             full (g then f) iteration; how often it checks is perturbot's business (reported
             `iterations` is what it ran).
  OTT-JAX    the same quantity (norm_error=1, column marginal after the g-then-f update), but
             computed only every inner_iterations = 10 iterations (after iterations 10, 20, ...,
             and at max_iterations); n_iters is a multiple of 10.
  POT        err = L2 norm (nx.norm) of the column-marginal error, checked when ii % 10 == 0,
             i.e. after iterations 1, 11, 21, ... (0-based ii); stop when err < stopThr.
             log['niter'] is the 0-based index ii of the last iteration, so iterations run =
             niter + 1. Since ||e||_2 <= ||e||_1 <= sqrt(m) ||e||_2, POT stops earlier at the same
             threshold (L1 error up to sqrt(m) x threshold); the table reports the L1
             column-marginal error of POT's returned plan and the per-iteration ratio, which
             compares like with like. --pot-stop-thr T/sqrt(m) forces POT's L1 error < T.
             All three update g (columns) then f (rows).

Cost agreement
  perturbot and OTT report reg_ot_cost = <a, f - eps log a> + <b, g - eps log b>
  + eps (1 - sum P) (OTT's definition, the dual objective). For POT the same number is
  computed from its log-scalings: with P = exp(-M/eps + u_i + v_j), f = eps u, g = eps v,
  reg_ot_cost = eps (<a, u - log a> + <b, v - log b> + 1 - sum P), in float64 from POT's
  float32 u, v and plan (outside the timed region). At threshold 1e-3 the solvers stop at
  different iterates, so agreement is to about the threshold, not to float32 round-off.

Run it through run.sh, which provides the venv (.venv-ot: ott-jax, jax[cpu], POT, numpy):
    swift build -c release
    bench/sinkhorn/run.sh [--sizes 1000 4096 16384] [--dims 16 64] [--repeat 3] [--skip-pot] ...
    bench/sinkhorn/run.sh --quick --out /tmp/sinkhorn.md   # tiny sizes, checks the harness
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402  (bench/common.py)
    CLOUD_RECIPE, add_cloud_options, bench_parser, cloud_paths, describe_machine,
    describe_perturbot, fbytes, flag_problems, generated_by, jax_cpu_env, load_clouds_into_jax,
    machine, make_clouds, md_table, peak_rss_bytes, perturbot_missing, run_json, versions,
    write_outputs)

import numpy as np

EPS_SCALE = 0.05  # OTT's DEFAULT_EPSILON_SCALE
EXPLICIT_STD_CHECK_MAX = 25_000_000  # n*m up to which the moment formula is cross-checked

AIM_OTT = 3.0    # perturbot >= 3x faster than OTT-JAX (CPU) at n = 4096
AIM_POT = 10.0   # perturbot >= 10x faster than POT at n = 4096
AIM_N = 4096
AIM_RSS = 2**30  # < 1 GiB peak RSS at the large case


# ----------------------------------------------------------------------------- data

def case_paths(data: Path, n: int, d: int) -> tuple[Path, Path, Path]:
    """The clouds of case (n, d) (bench/common.py makes them) and its cached epsilon."""
    return (*cloud_paths(data, n, d), data / f"eps_n{n}_d{d}.json")


def cost_moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Exact mean and population std of C_ij = |x_i - y_j|^2 over all pairs, in float64.

    With s_i = |x_i|^2, t_j = |y_j|^2:  C_ij = s_i + t_j - 2 x_i.y_j, so
      E[C]   = E[s] + E[t] - 2 E[x].E[y]
      E[C^2] = E[s^2] + E[t^2] + 2 E[s]E[t] + 4 <Sx, Sy>_F - 4 E[s x].E[y] - 4 E[x].E[t y]
    with Sx = E[x x^T], Sy = E[y y^T] (d x d), all expectations uniform over points.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s = np.einsum("ij,ij->i", x, x)
    t = np.einsum("ij,ij->i", y, y)
    mx, my = x.mean(0), y.mean(0)
    sx = (x.T @ x) / len(x)
    sy = (y.T @ y) / len(y)
    mean = s.mean() + t.mean() - 2.0 * mx @ my
    second = ((s * s).mean() + (t * t).mean() + 2.0 * s.mean() * t.mean()
              + 4.0 * np.sum(sx * sy)
              - 4.0 * ((s[:, None] * x).mean(0) @ my)
              - 4.0 * (mx @ (t[:, None] * y).mean(0)))
    return float(mean), float(math.sqrt(max(second - mean * mean, 0.0)))


def explicit_moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    c = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return float(c.mean()), float(c.std())


def case_epsilon(data: Path, n: int, d: int, made: bool) -> dict:
    """eps = 0.05 * std(C) (float64), cached in eps_n{n}_d{d}.json beside the clouds."""
    xp, yp, ep = case_paths(data, n, d)
    if not made and ep.exists():
        try:
            meta = json.loads(ep.read_text())
            if meta.get("recipe") == CLOUD_RECIPE and meta.get("n") == n and meta.get("d") == d:
                return meta
        except (OSError, ValueError):
            pass
    x, y = np.load(xp), np.load(yp)
    mean, std = cost_moments(x, y)
    meta = {"n": n, "m": len(y), "d": d, "recipe": CLOUD_RECIPE, "cost_mean": mean,
            "cost_std": std, "epsilon": EPS_SCALE * std,
            "rule": "0.05 * population std of C_ij = |x_i - y_j|^2 (numpy float64, from moments)"}
    if len(x) * len(y) <= EXPLICIT_STD_CHECK_MAX:
        emean, estd = explicit_moments(x, y)
        rel = abs(estd - std) / estd
        meta["explicit_std_rel_diff"] = rel
        if rel > 1e-9 or abs(emean - mean) > 1e-9 * abs(emean):
            sys.exit(f"internal error: moment formula std {std} / mean {mean} vs explicit "
                     f"{estd} / {emean} for n={n}, d={d}")
    ep.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


# ----------------------------------------------------------------------------- workers (peers)

def _plan_budget(per_iter: float, setup: float, expected_iters: int, budget: float,
                 repeat: int) -> tuple[bool, int, float]:
    """(extrapolate?, repeats, estimated seconds of one full run)."""
    estimate = setup + per_iter * expected_iters
    if estimate > budget:
        return True, 0, estimate
    return False, max(1, min(repeat, int(budget // max(estimate, 1e-9)))), estimate


def worker_pot(a: argparse.Namespace) -> dict:
    import warnings
    import ot

    x, y = np.load(a.x), np.load(a.y)
    n, m = len(x), len(y)
    wa = np.full(n, 1.0 / n, dtype=np.float32)
    wb = np.full(m, 1.0 / m, dtype=np.float32)
    eps = a.epsilon

    def solve(max_iter: int, thr: float):
        t0 = time.perf_counter()
        M = ot.dist(x, y)  # metric='sqeuclidean'
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P, log = ot.sinkhorn(wa, wb, M, reg=eps, method="sinkhorn_log", stopThr=thr,
                                 numItermax=max_iter, log=True)
        t2 = time.perf_counter()
        return M, P, log, t1 - t0, t2 - t1

    M, P, log, t_dist, t_probe = solve(a.probe_iterations, 0.0)
    dtypes = {"M": str(M.dtype), "P": str(P.dtype), "log_u": str(np.asarray(log["log_u"]).dtype)}
    del M, P, log
    gc.collect()
    per_iter = t_probe / a.probe_iterations
    out = {"solver": "pot", "dtypes": dtypes, "probe_iterations": a.probe_iterations,
           "probe_seconds": t_dist + t_probe, "probe_seconds_per_iteration": per_iter,
           "dist_seconds": t_dist}
    extrapolate, repeats, estimate = _plan_budget(per_iter, t_dist,
                                                  a.expected_iterations, a.budget, a.repeat)
    out.update(estimate_seconds=estimate, expected_iterations=a.expected_iterations)
    if extrapolate:
        out.update(extrapolated=True, peak_rss_bytes=peak_rss_bytes())
        return out

    times, sink_times = [], []
    for r in range(repeats):
        if r:
            del M, P, log
            gc.collect()
        M, P, log, td, ts = solve(a.max_iterations, a.pot_stop_thr)
        times.append(td + ts)
        sink_times.append(ts)
    errs = [float(e) for e in log["err"]]
    u = np.asarray(log["log_u"], dtype=np.float64)
    v = np.asarray(log["log_v"], dtype=np.float64)
    P64 = P.astype(np.float64)
    col = P64.sum(0)
    total = float(col.sum())
    reg_cost = eps * (float(np.mean(u)) + math.log(n) + float(np.mean(v)) + math.log(m)
                      + 1.0 - total)
    transport = float(np.einsum("ij,ij->", M.astype(np.float64), P64))
    out.update(
        extrapolated=False, repeats=repeats, seconds=min(times), seconds_all=times,
        solve_seconds_all=sink_times,
        iterations=int(log["niter"]) + 1, pot_niter=int(log["niter"]),
        converged=bool(errs and errs[-1] < a.pot_stop_thr), pot_err_l2=errs[-1] if errs else None,
        pot_stop_thr=a.pot_stop_thr,
        marginal_error=float(np.abs(col - 1.0 / m).sum()),
        row_marginal_error=float(np.abs(P64.sum(1) - 1.0 / n).sum()),
        reg_ot_cost=reg_cost, transport_cost=transport, peak_rss_bytes=peak_rss_bytes())
    return out


def worker_ott(a: argparse.Namespace) -> dict:
    x, y = load_clouds_into_jax(a.x, a.y)
    import jax
    from ott.geometry import pointcloud
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import sinkhorn

    eps = a.epsilon
    batch = a.ott_batch_size or None

    def make(max_iter: int, thr: float):
        solver = sinkhorn.Sinkhorn(threshold=thr, max_iterations=max_iter, lse_mode=True)

        @jax.jit
        def run(x, y):
            geom = pointcloud.PointCloud(x, y, epsilon=eps, batch_size=batch)
            out = solver(linear_problem.LinearProblem(geom))
            return (out.reg_ot_cost, out.n_iters, out.converged, out.errors, out.f, out.g)

        def call():
            t0 = time.perf_counter()
            res = jax.block_until_ready(run(x, y))
            return res, time.perf_counter() - t0
        return call

    probe = make(a.probe_iterations, 0.0)
    _, t_probe_first = probe()
    _, t_probe = probe()
    per_iter = t_probe / a.probe_iterations
    out = {"solver": "ott", "batch_size": batch, "devices": [str(dv) for dv in jax.devices()],
           "probe_iterations": a.probe_iterations, "probe_first_call_seconds": t_probe_first,
           "probe_seconds": t_probe, "probe_seconds_per_iteration": per_iter,
           "dtype": str(x.dtype)}
    extrapolate, repeats, estimate = _plan_budget(per_iter, 0.0, a.expected_iterations,
                                                  a.budget, a.repeat)
    out.update(estimate_seconds=estimate, expected_iterations=a.expected_iterations)
    if extrapolate:
        out.update(extrapolated=True, peak_rss_bytes=peak_rss_bytes())
        return out

    full = make(a.max_iterations, a.threshold)
    res, t_first = full()
    times = []
    for _ in range(repeats):
        res, t = full()
        times.append(t)
    cost, n_iters, converged, errors, f, g = res
    errors = np.asarray(errors)
    recorded = errors[errors != -1]
    out.update(
        extrapolated=False, repeats=repeats, first_call_seconds=t_first, seconds=min(times),
        seconds_all=times, iterations=int(n_iters), converged=bool(converged),
        marginal_error=float(recorded[-1]) if len(recorded) else None,
        reg_ot_cost=float(cost), peak_rss_bytes=peak_rss_bytes())
    return out


def worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.py _worker")
    p.add_argument("solver", choices=["pot", "ott"])
    p.add_argument("--x", required=True)
    p.add_argument("--y", required=True)
    p.add_argument("--epsilon", type=float, required=True)
    p.add_argument("--threshold", type=float, required=True)
    p.add_argument("--max-iterations", type=int, required=True)
    p.add_argument("--repeat", type=int, required=True)
    p.add_argument("--budget", type=float, required=True)
    p.add_argument("--expected-iterations", type=int, required=True)
    p.add_argument("--probe-iterations", type=int, required=True)
    p.add_argument("--ott-batch-size", type=int, default=0)
    p.add_argument("--pot-stop-thr", type=float, default=None)
    a = p.parse_args(argv)
    if a.pot_stop_thr is None:
        a.pot_stop_thr = a.threshold
    result = worker_pot(a) if a.solver == "pot" else worker_ott(a)
    print(json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- running

def run_perturbot(binary: Path, xp: Path, yp: Path, eps: float, args, mode: str,
                  repeat: int) -> dict:
    cmd = [str(binary), "bench", "sinkhorn", "--source", str(xp), "--target", str(yp),
           "--epsilon", repr(eps), "--threshold", repr(args.threshold),
           "--max-iterations", str(args.max_iterations), "--precision", "float",
           "--mode", mode, "--repeat", str(repeat), "--json"]
    res = run_json(cmd, args.perturbot_timeout)
    if "error" in res:
        return res
    problems = []
    missing = [k for k in ("n", "m", "d", "mode", "epsilon", "seconds", "iterations", "converged",
                           "reg_ot_cost") if k not in res]
    if missing:
        problems.append(f"missing keys {missing}")
    else:
        n, d = np.load(xp, mmap_mode="r").shape
        m = np.load(yp, mmap_mode="r").shape[0]
        if (int(res["n"]), int(res["m"]), int(res["d"])) != (n, m, d):
            problems.append(f"shape {res['n']}x{res['m']}x{res['d']} != {n}x{m}x{d}")
        if abs(float(res["epsilon"]) - eps) > 1e-6 * eps:
            problems.append(f"epsilon {res['epsilon']} != {eps}")
        if res.get("precision", "float") != "float":
            problems.append(f"precision {res.get('precision')}")
        if mode == "online" and res["mode"] != "online":
            problems.append(f"mode {res['mode']} although online was asked")
    return flag_problems(res, problems)


def run_peer(solver: str, xp: Path, yp: Path, eps: float, args, expected_iters: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", solver,
           "--x", str(xp), "--y", str(yp), "--epsilon", repr(eps),
           "--threshold", repr(args.threshold), "--max-iterations", str(args.max_iterations),
           "--repeat", str(args.repeat), "--budget", str(args.budget),
           "--expected-iterations", str(expected_iters),
           "--probe-iterations", str(args.probe_iterations)]
    env = jax_cpu_env() if solver == "ott" else dict(os.environ)
    if solver == "ott":
        if args.ott_batch_size:
            cmd += ["--ott-batch-size", str(args.ott_batch_size)]
    if solver == "pot" and args.pot_stop_thr is not None:
        cmd += ["--pot-stop-thr", repr(args.pot_stop_thr)]
    # a hard stop in case the probe misjudged: the budget, twice, plus start-up and one probe
    timeout = 3 * args.budget + 300
    return run_json(cmd, timeout, env)


# ----------------------------------------------------------------------------- report

def fnum(v, fmt: str = ".3f", none: str = "—") -> str:
    return none if v is None else format(v, fmt)


def fsec(v) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if v >= 0.01 else f"{v:.2e}"


def per_iter(res: dict) -> float | None:
    if res.get("extrapolated"):
        return res.get("probe_seconds_per_iteration")
    if res.get("seconds") is not None and res.get("iterations"):
        return float(res["seconds"]) / int(res["iterations"])
    return None


def rows_for_case(case: dict) -> list[list[str]]:
    n, d = case["n"], case["d"]
    pb = case.get("perturbot")
    pb_ok = pb is not None and "error" not in pb
    pb_sec = float(pb["seconds"]) if pb_ok else None
    pb_it = per_iter(pb) if pb_ok else None
    pb_cost = float(pb["reg_ot_cost"]) if pb_ok else None
    rows = []
    for name, label in (("perturbot", "perturbot"), ("ott", "OTT-JAX (CPU)"), ("pot", "POT")):
        res = case.get(name)
        if res is None:
            continue
        tag = f"{n:,} × {d}"
        if "error" in res:
            rows.append([tag, label, "—", f"**failed: {res['error']}**"] + ["—"] * 10)
            continue
        notes = []
        ratio = it_ratio = rel = "—"
        if name == "perturbot":
            mode = f"{res.get('mode', '?')}, {res.get('threads', '?')} thr"
            notes.append(f"best of {len(res.get('seconds_all', [])) or '?'}")
            if res.get("problems"):
                notes.append("**" + "; ".join(res["problems"]) + "**")
        elif name == "ott":
            mode = f"dense" if not res.get("batch_size") else f"online (batch {res['batch_size']})"
        else:
            mode = "dense"
        pi = per_iter(res)
        if name != "perturbot":
            if pb_it and pi:
                it_ratio = f"{pi / pb_it:.2f}×"
            if res.get("extrapolated"):
                ratio = f"({it_ratio} per iter.)" if it_ratio != "—" else "—"
            elif pb_sec:
                ratio = f"{float(res['seconds']) / pb_sec:.2f}×"
            if pb_cost is not None and res.get("reg_ot_cost") is not None:
                rel = f"{abs(float(res['reg_ot_cost']) - pb_cost) / max(abs(pb_cost), 1e-300):.1e}"
        if res.get("extrapolated"):
            secs = (f"~{fsec(res['estimate_seconds'])} (extrapolated: {res['probe_iterations']}-iter. "
                    f"probe, scaled to {res.get('expected_iterations', '?')} iter.)")
            iters = "—"
            conv = "—"
            merr = "—"
            cost = "—"
            notes.append("one full run would exceed the budget: s / iter. from the probe")
        else:
            secs = fsec(float(res["seconds"]))
            iters = str(res.get("iterations", "—"))
            conv = "yes" if res.get("converged") else "**no**"
            if name == "pot" and res.get("converged"):
                conv = "yes (L2 < stopThr)"
            merr = fnum(res.get("marginal_error"), ".1e")
            cost = fnum(res.get("reg_ot_cost"), ".6g")
            if name != "perturbot":
                notes.append(f"best of {res.get('repeats')}")
        if name == "ott":
            if res.get("first_call_seconds") is not None:
                notes.append(f"jit + 1st call {res['first_call_seconds']:.2f} s")
            else:
                notes.append(f"jit + 1st probe call {res['probe_first_call_seconds']:.2f} s")
        if name == "pot":
            notes.append(f"ot.dist {fsec(res.get('dist_seconds'))} s")
            if res.get("pot_err_l2") is not None:
                notes.append(f"POT's own L2 err {res['pot_err_l2']:.1e}")
        rows.append([tag, label, mode, secs, fsec(pi), iters, conv, merr, cost, rel, ratio,
                     it_ratio, fbytes(res.get("peak_rss_bytes")), "; ".join(notes)])
    return rows


HEADER = ["n = m × d", "solver", "mode", "seconds", "s / iter.", "iterations", "converged",
          "col. marginal L1 err", "reg_ot_cost", "rel. diff vs perturbot",
          "time: peer / perturbot", "s/iter.: peer / perturbot", "peak RSS", "notes"]


def aims(cases: list[dict], large: dict | None) -> list[str]:
    lines = []
    for case in cases:
        if case["n"] != AIM_N:
            continue
        pb = case.get("perturbot")
        if not pb or "error" in pb:
            continue
        for name, label, aim in (("ott", "OTT-JAX (CPU)", AIM_OTT), ("pot", "POT", AIM_POT)):
            res = case.get(name)
            if not res or "error" in res:
                continue
            r_it = per_iter(res) / per_iter(pb)
            if res.get("extrapolated"):
                r, how = r_it, "per iteration; the peer's full run was extrapolated"
            else:
                r = float(res["seconds"]) / float(pb["seconds"])
                how = (f"wall time; per iteration {r_it:.2f}×, iterations {res['iterations']} vs "
                       f"{pb['iterations']}")
            lines.append(f"- n = {AIM_N:,}, d = {case['d']}: perturbot vs {label}: {r:.2f}× "
                         f"faster ({how}); aim ≥ {aim:g}×: "
                         + ("**met**" if r >= aim else "**not met**"))
    if large and "error" not in large:
        rss = large.get("peak_rss_bytes")
        if rss is not None:
            lines.append(f"- n = m = {large['n']:,}, d = {large['d']}, online: peak RSS "
                         f"{fbytes(rss)}; aim < 1 GiB: " + ("**met**" if rss < AIM_RSS else "**not met**"))
    return lines or ["- (no case of the aims was run)"]


# ----------------------------------------------------------------------------- main

def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        return worker_main(sys.argv[2:])

    p = bench_parser(__doc__)
    add_cloud_options(p, "sinkhorn")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 4096, 16384], help="n = m")
    p.add_argument("--dims", type=int, nargs="+", default=[16, 64], help="d")
    p.add_argument("--threshold", type=float, default=1e-3,
                   help="column-marginal error threshold (default: %(default)s)")
    p.add_argument("--max-iterations", type=int, default=2000, help="(default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="best of (default: %(default)s)")
    p.add_argument("--budget", type=float, default=240.0,
                   help="seconds one peer run may take before it is extrapolated (default: %(default)s)")
    p.add_argument("--probe-iterations", type=int, default=20,
                   help="iterations of each peer's probe run (default: %(default)s)")
    p.add_argument("--ott-batch-size", type=int, default=0,
                   help="OTT PointCloud batch_size (online mode); 0 = dense (default)")
    p.add_argument("--pot-stop-thr", type=float, default=None,
                   help="POT's stopThr (an L2 norm; default: --threshold). THRESHOLD/sqrt(m) "
                        "guarantees an L1 error < THRESHOLD")
    p.add_argument("--skip-pot", action="store_true")
    p.add_argument("--skip-ott", action="store_true")
    p.add_argument("--skip-perturbot", action="store_true",
                   help="peers only (no ratios; budgets estimated from max iterations)")
    p.add_argument("--large-n", type=int, default=50_000, help="n = m of the online case (default: %(default)s)")
    p.add_argument("--large-d", type=int, default=64, help="(default: %(default)s)")
    p.add_argument("--large-repeat", type=int, default=1, help="(default: %(default)s)")
    p.add_argument("--skip-large", action="store_true")
    p.add_argument("--perturbot-timeout", type=float, default=None,
                   help="seconds before a perturbot run is killed (default: none)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes to test the harness: --sizes 200 500 --dims 4 16 --large-n 2000 "
                        "--repeat 2")
    args = p.parse_args()
    if args.quick:
        args.sizes, args.dims, args.large_n, args.repeat = [200, 500], [4, 16], 2000, 2

    if not args.skip_perturbot and perturbot_missing(args.perturbot):
        return 1

    t_start = time.perf_counter()
    cases = []
    for n in args.sizes:
        for d in args.dims:
            xp, yp, made = make_clouds(args.data, n, d)
            meta = case_epsilon(args.data, n, d, made)
            eps = float(meta["epsilon"])
            print(f"\n== n = m = {n}, d = {d}: {'generated' if made else 'reusing'} {xp.name}, "
                  f"{yp.name}; epsilon = {eps:.6g} (std C = {meta['cost_std']:.6g})", flush=True)
            case = {"n": n, "d": d, "epsilon": eps, "cost_std": meta["cost_std"]}
            expected = args.max_iterations
            if not args.skip_perturbot:
                case["perturbot"] = run_perturbot(args.perturbot, xp, yp, eps, args, "automatic",
                                                  args.repeat)
                pb = case["perturbot"]
                if "error" not in pb and pb.get("iterations"):
                    expected = int(pb["iterations"])
            if not args.skip_ott:
                case["ott"] = run_peer("ott", xp, yp, eps, args, expected)
                if args.skip_perturbot and "error" not in case["ott"] and case["ott"].get("iterations"):
                    expected = int(case["ott"]["iterations"])
            if not args.skip_pot:
                case["pot"] = run_peer("pot", xp, yp, eps, args, expected)
            for k in ("perturbot", "ott", "pot"):
                if k in case:
                    r = case[k]
                    print(f"   {k:9s} " + (r["error"] if "error" in r else
                          f"{'~' if r.get('extrapolated') else ''}"
                          f"{r.get('seconds', r.get('estimate_seconds')):.3f} s, "
                          f"{r.get('iterations', '—')} iterations, cost {r.get('reg_ot_cost')}"),
                          flush=True)
            cases.append(case)

    large = None
    if not args.skip_large and not args.skip_perturbot:
        n, d = args.large_n, args.large_d
        xp, yp, made = make_clouds(args.data, n, d)
        meta = case_epsilon(args.data, n, d, made)
        eps = float(meta["epsilon"])
        print(f"\n== large: n = m = {n}, d = {d}, online; epsilon = {eps:.6g}", flush=True)
        large = run_perturbot(args.perturbot, xp, yp, eps, args, "online", args.large_repeat)
        large.setdefault("n", n)
        large.setdefault("d", d)
        large["case_epsilon"] = eps
    total_wall = time.perf_counter() - t_start

    # ------------------------------------------------------------------ report
    m = machine()
    v = versions(args.perturbot, ("numpy", "pot", "jax", "jaxlib", "ott-jax", "scipy"))
    rows = []
    for case in cases:
        rows += rows_for_case(case)
    table = md_table(HEADER, rows)
    large_lines = []
    if large is not None:
        if "error" in large:
            large_lines = [f"perturbot online, n = m = {args.large_n:,}, d = {args.large_d}: "
                           f"**failed: {large['error']}**"]
        else:
            lrow = [f"{large['n']:,} × {large['d']}", large.get("mode", "?"),
                    str(large.get("threads", "?")), fsec(float(large["seconds"])),
                    fsec(per_iter(large)), str(large.get("iterations")),
                    "yes" if large.get("converged") else "**no**",
                    fnum(large.get("marginal_error"), ".1e"), fnum(large.get("reg_ot_cost"), ".6g"),
                    fbytes(large.get("peak_rss_bytes")), f"{large['case_epsilon']:.6g}"]
            large_lines = md_table(["n = m × d", "mode", "threads", "seconds", "s / iter.",
                                    "iterations", "converged", "col. marginal L1 err",
                                    "reg_ot_cost", "peak RSS", "epsilon"], [lrow])
            if large.get("problems"):
                large_lines.append("\n**perturbot output problems:** " + "; ".join(large["problems"]))
    eps_lines = [f"  - n = m = {c['n']:,}, d = {c['d']}: ε = {c['epsilon']:.6g} "
                 f"(std of C = {c['cost_std']:.6g})" for c in cases]
    ott_batch = (f"PointCloud batch_size = {args.ott_batch_size} (online)" if args.ott_batch_size
                 else "dense PointCloud (batch_size None: n × m cost matrix materialised)")
    pot_thr = "threshold" if args.pot_stop_thr is None else f"{args.pot_stop_thr:g}"
    doc = "\n".join([
        "# Sinkhorn benchmark: perturbot vs OTT-JAX (CPU) vs POT",
        "",
        generated_by("bench/sinkhorn/run.sh", total_wall)
        + f" Times are wall-clock seconds, best of {args.repeat} unless noted; every solver gets "
        f"the same float32 point clouds, the same fixed ε, threshold {args.threshold:g} and at "
        f"most {args.max_iterations} iterations.",
        "",
        f"- machine: {describe_machine(m)}",
        f"- versions: python {v['python']}, numpy {v['numpy']}, POT {v['pot']}, jax {v['jax']} "
        f"(jaxlib {v['jaxlib']}), ott-jax {v['ott-jax']}, scipy {v['scipy']}; "
        + describe_perturbot(v),
        f"- data: {CLOUD_RECIPE}; n = m; files under `{args.data}`",
        "- ε = 0.05 × population std of C_ij = ‖x_i − y_j‖² (OTT-JAX's default rule), numpy "
        "float64, passed as a fixed number to all three solvers:",
        *eps_lines,
        "",
        "## Aims (issue 3)",
        "",
        "perturbot ≥ 3× faster than OTT-JAX on CPU and ≥ 10× faster than POT at n = 4096; "
        "< 1 GiB peak RSS at n = m = 50,000 (online mode).",
        "",
        *aims(cases, large),
        "",
        "## Results",
        "",
        *table,
        "",
        "Ratios > 1× mean perturbot is faster. s / iter. = seconds / iterations (cost-matrix "
        "time included, spread over the iterations); for an extrapolated row it is the probe's "
        "Sinkhorn time / probe iterations (POT: ot.dist excluded, shown in notes), and its time "
        "ratio is the per-iteration ratio. rel. diff = |reg_ot_cost(peer) − "
        "reg_ot_cost(perturbot)| / |reg_ot_cost(perturbot)|.",
        "",
        *(["## Large case: perturbot online mode", "", *large_lines, ""] if large_lines else []),
        "## How each solver was run",
        "",
        f"- perturbot: `perturbot bench sinkhorn --source X.npy --target Y.npy --epsilon E "
        f"--threshold {args.threshold:g} --max-iterations {args.max_iterations} --precision float "
        f"--mode automatic --repeat {args.repeat} --json` (the large case: `--mode online "
        f"--repeat {args.large_repeat}`); seconds and peak RSS as perturbot reports them (timed "
        "inside: cost matrix + solve, file load excluded; RSS of the whole process).",
        f"- OTT-JAX: float32 (x64 off), JAX_PLATFORMS=cpu (XLA's CPU thread pool), {ott_batch}, "
        "`Sinkhorn(threshold, max_iterations, lse_mode=True)`, the solve incl. the cost matrix "
        "in one `jax.jit`; compile + first call reported separately (notes), then the timed calls "
        "(`block_until_ready`).",
        "- POT: float32, `M = ot.dist(x, y)` (sqeuclidean) + `ot.sinkhorn(a, b, M, reg=ε, "
        f"method='sinkhorn_log', stopThr={pot_thr}, numItermax=max_iterations, log=True)`, "
        "both timed; numpy/scipy (logsumexp single-threaded; BLAS only in ot.dist).",
        f"- Each peer runs in its own python subprocess; its peak RSS (ru_maxrss) includes the "
        f"interpreter, its libraries and the loaded clouds. Each first runs a "
        f"{args.probe_iterations}-iteration probe (threshold 0) that warms up and measures "
        f"seconds per iteration; if that rate × perturbot's iteration count exceeds the "
        f"{args.budget:g} s budget per run, the full run is skipped (row marked extrapolated); "
        "otherwise as many of the repeats as fit in the budget (≥ 1).",
        "",
        "## Stopping criteria (differ; read from the installed sources)",
        "",
        "- perturbot: L1 error of the column marginal, Σ_j |Σ_i P_ij − b_j| < threshold, after a "
        "full iteration (g then f update); `iterations` is what it ran.",
        "- OTT-JAX 0.6.0: the same quantity (norm_error = 1, column marginal after the g-then-f "
        "update), but computed only every inner_iterations = 10 iterations (after iterations "
        "10, 20, …), so `n_iters` is a multiple of 10 and can overshoot perturbot's count by "
        "up to 9.",
        "- POT 0.9.7: the **L2** norm of the column-marginal error, checked when ii % 10 == 0, i.e. "
        "after iterations 1, 11, 21, … (ii 0-based); `log['niter']` is the last ii, so iterations "
        "= niter + 1. As ‖e‖₂ ≤ ‖e‖₁ ≤ √m ‖e‖₂, POT stops earlier at the same threshold, with "
        "an L1 error up to √m × threshold; the table's L1 error for POT is recomputed from its "
        "returned plan (POT's own L2 value in notes). Its wall-time ratio therefore flatters "
        "POT; the per-iteration ratio compares like with like (`--pot-stop-thr T/√m` would "
        "force an L1 error < T instead, at the price of a stricter stop).",
        "- reg_ot_cost of POT: the same dual objective as OTT's, ε(⟨a, u − log a⟩ + ⟨b, v − log b⟩ "
        "+ 1 − ΣP) from POT's log-scalings u, v and its plan, computed in float64 after timing. "
        "Solvers stopping at different iterates agree to roughly the threshold, not to float32 "
        "round-off.",
        "",
    ])
    write_outputs(doc, args, machine=m, versions=v, cases=cases, large=large)
    failed = any("error" in c.get(k, {}) for c in cases for k in ("perturbot", "ott", "pot"))
    failed = failed or (large is not None and "error" in large)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
