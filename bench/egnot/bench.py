"""Benchmark: energy-guided entropic OT (EgNOT) training throughput — `perturbot bench egnot`
vs the same training step in PyTorch (CPU, float32).

What is timed
  One *training step* of energy-guided EOT (Mokrov et al. 2024, Algorithm 1, as the authors'
  src/eot.py runs it on their 2-D toy), identical in both peers:
    - potential u(y): MLP d -> H -> ... -> H -> 1 with --layers (3) hidden layers of --hidden
      (256) units, LeakyReLU(0.2) after each hidden layer, none on the output (PyTorch's default
      nn.Linear initialisation in the PyTorch peer, perturbot's own in perturbot).
    - a replay buffer of (x, y) pairs, capacity 10,000, FIFO (a ring: the oldest pairs are
      overwritten). For each of the --batch-size (1024) rows: with probability 0.95, when the
      buffer is not empty, a stored pair drawn uniformly with replacement; otherwise a fresh x
      drawn uniformly from the source cloud and y0 ~ N(0, I).
    - K = --langevin-steps (100) Langevin steps on the batch's chains, with no gradient into the
      parameters (they are set requires_grad=False meanwhile; torch.autograd.grad of
      sum_i u(y_i) w.r.t. y only):
          y <- y + 0.5 grad u(y) - (eta / (2 eps)) (y - x) + sqrt(eta) xi,   xi ~ N(0, I)
      with eps = 0.1 (for the cost 1/2 |x - y|^2) and eta = 0.01.
    - the (x, y_K) pairs are pushed into the buffer.
    - y_data: --batch-size rows drawn uniformly with replacement from the target cloud.
    - loss = -mean u(y_data) + mean u(y_K) (y_K detached; one forward pass over both, stacked);
      one torch.optim.Adam step (lr 2e-4, betas (0.2, 0.99), eps 1e-8; torch's default
      implementation).
  So one training step = K forward + input-gradient passes over B rows, then one forward +
  parameter-gradient pass over 2B rows and one Adam update.

  Each peer: one untimed warm-up step (on a fresh network), then best of --repeat timed runs of
  --steps training steps, each run from a fresh network, optimiser and empty buffer. Throughput =
  steps / seconds; Langevin steps/s = steps x K / seconds. Data loading is excluded.

Peers (each in its own subprocess; its own thread pools and peak RSS)
  perturbot  `perturbot bench egnot --source X.npy --target Y.npy --steps S --langevin-steps K
              --batch-size B --hidden H --layers L --epsilon E --step-size ETA --precision float
              --repeat R --json`; hand-written Swift forward/backward passes. It prints one JSON
              object (d, batch_size, hidden, langevin_steps, steps, precision, seconds (best),
              seconds_all, steps_per_second, langevin_steps_per_second, peak_rss_bytes,
              threads). Timed inside perturbot. (perturbot trains in standardised coordinates
              with eps and eta rescaled alike, the same plan and the same arithmetic per step.)
  PyTorch    this file with `_worker torch`: float32 on the CPU, eager mode (no torch.compile),
              torch.set_num_threads(--torch-threads, default 2: perturbot's batch kernels use at
              most 2 threads; 0 = the machine's cores), torch.set_num_interop_threads(1); seeded
              with torch.manual_seed(--seed + run). Peak RSS = the worker's ru_maxrss
              (interpreter and torch included). Measure on a quiet machine: while another
              process held a core of the 2-core dev machine, 2 intra-op threads ran ~10x
              slower than 1 (spin-waiting OpenMP threads), on a quiet one they should not.

Data: x = N(0, I_d), y = 1.3 N(0, I_d) + 0.5, n = m = --n (4096) rows, float32, seeded
(numpy default_rng(SeedSequence([20240607, n, d]))), saved as x_n{n}_d{d}.npy /
y_n{n}_d{d}.npy under --data; the same files go to both peers. (The recipe of bench/sinkhorn
and bench/neural.)

--self-check runs, in float64 on a tiny net (d = 3, hidden [5, 5]; one thread), before the
benchmark: the Langevin drift grad u (torch.autograd.grad, as the sampler computes it) against
central finite differences of u; one Langevin step against the update formula written out with
the same noise; that sampling leaves no gradient on the parameters and restores their
requires_grad; with u = 0 (the last layer zeroed) that the chains' stationary variance of y - x
matches the exact AR(1) variance eps / (1 - eta / (4 eps)) within 3 % (at eta = 0.01 and at eta
= 0.1, where it differs from eps by a third), and their mean 0; the buffer's FIFO overwrite and
replay fraction 0.95; and that a training step gives a finite loss and moves the parameters.
--self-check-only stops after it.

Run it through run.sh, which provides the venv (.venv-torch; see run.sh):
    swift build -c release
    bench/egnot/run.sh [--dims 2 16] [--steps 10] [--repeat 3] [--skip-perturbot] ...
    bench/egnot/run.sh --self-check-only
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402  (bench/common.py)
    CLOUD_RECIPE, add_cloud_options, bench_parser, describe_machine, describe_perturbot, fbytes,
    flag_problems, generated_by, is_executable, machine, make_clouds, md_table, peak_rss_bytes,
    run_json, versions, write_outputs)

import numpy as np

SLOPE = 0.2               # LeakyReLU negative slope
BUFFER_CAPACITY = 10_000
REPLAY_PROBABILITY = 0.95
ADAM = dict(lr=2e-4, betas=(0.2, 0.99), eps=1e-8)
TORCH_PIN = "torch==2.13.0+cpu"   # what run.sh installs (keep in step with run.sh)
NUMPY_PIN = "numpy==2.4.6"


def param_count(d: int, hidden: int, layers: int) -> int:
    return (d * hidden + hidden) + (layers - 1) * (hidden * hidden + hidden) + hidden + 1


# ----------------------------------------------------------------------------- the PyTorch step

def make_net(d: int, hidden: int, layers: int, dtype):
    """u: d -> hidden (x layers, LeakyReLU(0.2) after each) -> 1, PyTorch default init."""
    import torch.nn as nn
    mods: list = []
    width = d
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.LeakyReLU(SLOPE)]
        width = hidden
    mods.append(nn.Linear(width, 1))
    return nn.Sequential(*mods).to(dtype)


class ReplayBuffer:
    """FIFO buffer of (x, y) pairs as a ring: once full, each push overwrites the oldest rows."""

    def __init__(self, capacity: int, d: int, dtype):
        import torch
        self.capacity = capacity
        self.x = torch.empty(capacity, d, dtype=dtype)
        self.y = torch.empty(capacity, d, dtype=dtype)
        self.count = 0
        self.next = 0   # where the next row goes

    def push(self, x, y) -> None:
        import torch
        if x.shape[0] > self.capacity:
            x, y = x[-self.capacity:], y[-self.capacity:]
        k = x.shape[0]
        idx = (self.next + torch.arange(k)) % self.capacity
        self.x[idx] = x
        self.y[idx] = y
        self.next = (self.next + k) % self.capacity
        self.count = min(self.count + k, self.capacity)

    def sample(self, k: int):
        import torch
        idx = torch.randint(self.count, (k,))
        return self.x[idx], self.y[idx]


def potential_grad(net, y):
    """grad_y sum_i u(y_i) = the per-row gradients of u (rows are independent); no gradient is
    accumulated on the parameters (autograd.grad w.r.t. y only)."""
    import torch
    y = y.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(net(y).sum(), y)
    return g


def langevin(net, x, y, steps: int, epsilon: float, eta: float):
    """K steps of y <- y + 0.5 grad u(y) - (eta/(2 eps)) (y - x) + sqrt(eta) xi, with the
    parameters' requires_grad off meanwhile (restored after); returns y_K detached."""
    import torch
    pull = eta / (2.0 * epsilon)
    noise = math.sqrt(eta)
    flags = [p.requires_grad for p in net.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    try:
        y = y.detach()
        for _ in range(steps):
            g = potential_grad(net, y)
            y = y + 0.5 * g - pull * (y - x) + noise * torch.randn_like(y)
    finally:
        for p, f in zip(net.parameters(), flags):
            p.requires_grad_(f)
    return y.detach()


def initial_chains(buffer: ReplayBuffer, X, batch: int):
    """(x, y0, replayed): per row a buffer pair with probability 0.95 (when the buffer is not
    empty), else a fresh source point and y0 ~ N(0, I)."""
    import torch
    d = X.shape[1]
    if buffer.count > 0:
        replay = torch.rand(batch) < REPLAY_PROBABILITY
    else:
        replay = torch.zeros(batch, dtype=torch.bool)
    k = int(replay.sum())
    x = torch.empty(batch, d, dtype=X.dtype)
    y = torch.empty(batch, d, dtype=X.dtype)
    if k:
        x[replay], y[replay] = buffer.sample(k)
    if k < batch:
        fresh = ~replay
        x[fresh] = X[torch.randint(X.shape[0], (batch - k,))]
        y[fresh] = torch.randn(batch - k, d, dtype=X.dtype)
    return x, y, k


def train_step(net, opt, buffer: ReplayBuffer, X, Y, batch: int, langevin_steps: int,
               epsilon: float, eta: float) -> tuple[float, int]:
    """One training step (see the module docstring); returns (loss, rows replayed)."""
    import torch
    x, y0, replayed = initial_chains(buffer, X, batch)
    yk = langevin(net, x, y0, langevin_steps, epsilon, eta)
    buffer.push(x, yk)
    y_data = Y[torch.randint(Y.shape[0], (batch,))]
    u = net(torch.cat([y_data, yk]))[:, 0]
    loss = -u[:batch].mean() + u[batch:].mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach()), replayed


def fresh_training(d: int, a: argparse.Namespace, dtype, seed: int):
    import torch
    torch.manual_seed(seed)
    net = make_net(d, a.hidden, a.layers, dtype)
    opt = torch.optim.Adam(net.parameters(), **ADAM)
    return net, opt, ReplayBuffer(BUFFER_CAPACITY, d, dtype)


def set_threads(n: int) -> int:
    import os
    import torch
    n = n if n > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:   # only allowed before any inter-op work has started
        pass
    return n


def worker_train(a: argparse.Namespace) -> dict:
    import torch
    threads = set_threads(a.threads)
    X = torch.from_numpy(np.load(a.x))
    Y = torch.from_numpy(np.load(a.y))
    assert X.dtype == torch.float32 and Y.dtype == torch.float32, (X.dtype, Y.dtype)
    d = int(X.shape[1])
    step = lambda net, opt, buf: train_step(net, opt, buf, X, Y, a.batch_size, a.langevin_steps,
                                            a.epsilon, a.step_size)

    net, opt, buf = fresh_training(d, a, torch.float32, a.seed - 1)
    t0 = time.perf_counter()
    step(net, opt, buf)
    warm = time.perf_counter() - t0

    times, losses = [], []
    for run in range(a.repeat):
        net, opt, buf = fresh_training(d, a, torch.float32, a.seed + run)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss, _ = step(net, opt, buf)
        times.append(time.perf_counter() - t0)
        losses.append(loss)
    best = min(times)
    return {"peer": "torch", "d": d, "batch_size": a.batch_size,
            "hidden": [a.hidden] * a.layers, "langevin_steps": a.langevin_steps,
            "steps": a.steps, "epsilon": a.epsilon, "step_size": a.step_size,
            "params": sum(p.numel() for p in net.parameters()),
            "warm_up_seconds": warm, "seconds": best, "seconds_all": times,
            "steps_per_second": a.steps / best,
            "langevin_steps_per_second": a.steps * a.langevin_steps / best,
            "final_losses": losses, "finite": bool(all(np.isfinite(losses))),
            "dtype": str(X.dtype), "threads": threads,
            "interop_threads": torch.get_num_interop_threads(),
            "torch": torch.__version__, "peak_rss_bytes": peak_rss_bytes()}


# ----------------------------------------------------------------------------- self-check

def worker_selfcheck(a: argparse.Namespace) -> dict:
    """float64 checks of the PyTorch step on a tiny net (see the module docstring)."""
    import torch
    set_threads(a.threads)
    dt = torch.float64
    d, hidden, layers = 3, 5, 2
    results: list[dict] = []

    def record(name, value, tol, ok=None, note=None):
        ok = bool(value <= tol) if ok is None else bool(ok)
        r = {"check": name, "value": float(value), "tol": tol, "ok": ok}
        if note:
            r["note"] = note
        results.append(r)

    torch.manual_seed(1)
    net = make_net(d, hidden, layers, dt)
    y = torch.randn(7, d, dtype=dt)

    # drift vs central differences of u
    g = potential_grad(net, y)
    h = 1e-6
    with torch.no_grad():
        fd = torch.stack([(net(y + h * e)[:, 0] - net(y - h * e)[:, 0]) / (2 * h)
                          for e in torch.eye(d, dtype=dt)], dim=1)
    err = float((g - fd).abs().max() / fd.abs().max())
    record("Langevin drift grad u (autograd) vs central differences of u, max rel. err", err, 1e-7)

    # one Langevin step = the formula, same noise; no parameter gradients left behind
    eps, eta = 0.1, 0.01
    x = torch.randn(7, d, dtype=dt)
    torch.manual_seed(2)
    y1 = langevin(net, x, y, 1, eps, eta)
    torch.manual_seed(2)
    xi = torch.randn_like(y)
    expect = y + 0.5 * g - eta / (2 * eps) * (y - x) + math.sqrt(eta) * xi
    record("one Langevin step vs y + 0.5 grad u - eta/(2 eps) (y - x) + sqrt(eta) xi, max abs diff",
           float((y1 - expect).abs().max()), 1e-14)
    clean = all(p.grad is None and p.requires_grad for p in net.parameters())
    record("after sampling: no parameter .grad, requires_grad restored", 0.0, 0.0, ok=clean)

    # u = 0: the chain is AR(1) around x, stationary variance eps / (1 - eta/(4 eps))
    zero = make_net(d, hidden, layers, dt)
    with torch.no_grad():
        zero[-1].weight.zero_()
        zero[-1].bias.zero_()
    chains = 20_000
    for eta_c in (0.01, 0.1):
        torch.manual_seed(3)
        xs = torch.randn(chains, d, dtype=dt)
        pull = eta_c / (2 * eps)
        steps = int(math.ceil(25.0 / (-math.log(1 - pull))))   # (1 - pull)^(2K) < e^-50
        yk = langevin(zero, xs, torch.randn(chains, d, dtype=dt), steps, eps, eta_c)
        r = yk - xs
        exact = eps / (1 - eta_c / (4 * eps))
        var = float(r.var())
        rel = abs(var / exact - 1)
        record(f"u = 0, eta = {eta_c}: stationary var(y - x) vs eps/(1 - eta/(4 eps)) = "
               f"{exact:.5f}, rel. err", rel, 0.03,
               note=f"measured {var:.5f} over {chains} chains x {d} after {steps} steps; "
                    f"eps alone would be off by {abs(eps / exact - 1):.1%}")
        se = math.sqrt(exact / (chains * d))
        record(f"u = 0, eta = {eta_c}: mean(y - x) in standard errors", abs(float(r.mean())) / se,
               4.0)

    # the buffer: FIFO overwrite, and the replay fraction
    buf = ReplayBuffer(10, 1, dt)
    buf.push(torch.arange(6, dtype=dt)[:, None], torch.arange(6, dtype=dt)[:, None])
    buf.push(torch.arange(6, 13, dtype=dt)[:, None], torch.arange(6, 13, dtype=dt)[:, None])
    kept = sorted(buf.x[:buf.count, 0].tolist())
    record("buffer of 10 after pushing 0..12: holds 3..12 (FIFO)", 0.0, 0.0,
           ok=buf.count == 10 and kept == [float(v) for v in range(3, 13)])
    torch.manual_seed(4)
    X = torch.randn(64, d, dtype=dt)
    Y = 1.3 * torch.randn(64, d, dtype=dt) + 0.5
    net, opt, buf = fresh_training(d, argparse.Namespace(hidden=hidden, layers=layers), dt, 5)
    before = [p.detach().clone() for p in net.parameters()]
    big = 4000
    loss0, rep0 = train_step(net, opt, buf, X, Y, big, 3, eps, eta)
    loss1, rep1 = train_step(net, opt, buf, X, Y, big, 3, eps, eta)
    frac = rep1 / big
    sd = math.sqrt(REPLAY_PROBABILITY * (1 - REPLAY_PROBABILITY) / big)
    record("replayed rows: 0 from an empty buffer, then fraction 0.95 (|diff| in s.d.)",
           abs(frac - REPLAY_PROBABILITY) / sd, 4.0,
           ok=rep0 == 0 and abs(frac - REPLAY_PROBABILITY) <= 4 * sd,
           note=f"{rep0} then {rep1} of {big}")
    moved = max(float((p.detach() - b).abs().max()) for p, b in zip(net.parameters(), before))
    record("two training steps: finite losses, parameters moved (max |change|)", moved, 0.0,
           ok=math.isfinite(loss0) and math.isfinite(loss1) and moved > 0,
           note=f"losses {loss0:.4g}, {loss1:.4g}")
    return {"ok": all(r["ok"] for r in results), "checks": results, "torch": torch.__version__}


def worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.py _worker")
    p.add_argument("peer", choices=["torch", "selfcheck"])
    p.add_argument("--x")
    p.add_argument("--y")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--langevin-steps", type=int, default=100)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--epsilon", type=float, default=0.1)
    p.add_argument("--step-size", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    result = worker_selfcheck(a) if a.peer == "selfcheck" else worker_train(a)
    print(json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- running

def perturbot_cmd(args, xp: Path, yp: Path) -> list[str]:
    return [str(args.perturbot), "bench", "egnot", "--source", str(xp), "--target", str(yp),
            "--steps", str(args.steps), "--langevin-steps", str(args.langevin_steps),
            "--batch-size", str(args.batch_size), "--hidden", str(args.hidden),
            "--layers", str(args.layers), "--epsilon", repr(args.epsilon),
            "--step-size", repr(args.step_size), "--precision", "float",
            "--repeat", str(args.repeat), "--json"]


def run_perturbot(args, xp: Path, yp: Path, d: int) -> dict:
    if not is_executable(args.perturbot):
        return {"error": f"binary not found at {args.perturbot} (build with `swift build -c "
                         "release`, or pass --perturbot PATH)"}
    cmd = perturbot_cmd(args, xp, yp)
    res = run_json(cmd, args.perturbot_timeout, quote_failure=True)
    res["command"] = shlex.join(cmd)
    if "error" in res:
        return res
    problems = []
    missing = [k for k in ("d", "batch_size", "hidden", "langevin_steps", "steps", "precision",
                           "seconds", "steps_per_second") if k not in res]
    if missing:
        problems.append(f"missing keys {missing}")
    else:
        expect = {"d": d, "batch_size": args.batch_size, "langevin_steps": args.langevin_steps,
                  "steps": args.steps}
        for k, want in expect.items():
            if int(res[k]) != want:
                problems.append(f"{k} {res[k]} != {want}")
        if list(res["hidden"]) != [args.hidden] * args.layers:
            problems.append(f"hidden {res['hidden']} != {[args.hidden] * args.layers}")
        if res["precision"] != "float":
            problems.append(f"precision {res['precision']} != float")
        sps = args.steps / float(res["seconds"])
        if abs(sps - float(res["steps_per_second"])) > 1e-3 * sps:
            problems.append(f"steps_per_second {res['steps_per_second']} != steps / seconds "
                            f"= {sps:.4g}")
    return flag_problems(res, problems)


def run_peer(peer: str, args, xp: Path | None = None, yp: Path | None = None) -> dict:
    # the self-check is not timed: one thread (spin-waiting intra-op threads can make small ops
    # ~30x slower when another process holds a core)
    threads = 1 if peer == "selfcheck" else args.torch_threads
    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", peer,
           "--threads", str(threads)]
    if peer != "selfcheck":
        cmd += ["--x", str(xp), "--y", str(yp), "--steps", str(args.steps),
                "--repeat", str(args.repeat), "--batch-size", str(args.batch_size),
                "--langevin-steps", str(args.langevin_steps), "--hidden", str(args.hidden),
                "--layers", str(args.layers), "--epsilon", repr(args.epsilon),
                "--step-size", repr(args.step_size), "--seed", str(args.seed)]
    res = run_json(cmd, args.peer_timeout, quote_failure=True)
    res["command"] = shlex.join(cmd)
    return res


# ----------------------------------------------------------------------------- report

def ok(res: dict | None) -> bool:
    return res is not None and "error" not in res


def fnum(res: dict | None, key: str, fmt: str, skipped: str = "skipped") -> str:
    if res is None:
        return skipped
    if "error" in res:
        return f"**failed: {res['error']}**"
    return format(float(res[key]), fmt)


def ratio(a: dict | None, b: dict | None) -> str:
    if not (ok(a) and ok(b)):
        return "—"
    return f"{float(a['steps_per_second']) / float(b['steps_per_second']):.2f}×"


def result_rows(case: dict) -> list[list[str]]:
    rows = []
    for key, label in (("perturbot", "perturbot"), ("torch", "PyTorch")):
        if key not in case:
            continue
        res = case[key]
        if not ok(res):
            rows.append([str(case["d"]), label, fnum(res, "", "")] + ["—"] * 3)
            continue
        rows.append([str(case["d"]), label, f"{float(res['steps_per_second']):.3f}",
                     f"{float(res['langevin_steps_per_second']):.1f}",
                     ratio(case.get("perturbot"), case.get("torch")) if key == "perturbot"
                     else "—",
                     fbytes(res.get("peak_rss_bytes")).removesuffix(" MiB")])
    return rows


def detail_rows(case: dict) -> list[list[str]]:
    rows = []
    for key, label in (("perturbot", "perturbot"), ("torch", "PyTorch")):
        res = case.get(key)
        if not ok(res):
            continue
        secs = ", ".join(f"{float(s):.3f}" for s in res.get("seconds_all", [])) or "?"
        if key == "perturbot":
            warm, loss = "—", "—"
            notes = "; ".join(res.get("problems", []))
            notes = f"**{notes}**" if notes else ""
        else:
            warm = f"{res['warm_up_seconds']:.2f}"
            loss = ", ".join(f"{v:.4g}" for v in res["final_losses"])
            notes = f"{res['params']:,} params; interop threads {res['interop_threads']}"
            if not res.get("finite", True):
                notes += "; **non-finite loss**"
        rows.append([str(case["d"]), label, f"{float(res['seconds']):.3f} ({secs})", warm,
                     str(res.get("threads", "?")), loss, notes])
    return rows


# ----------------------------------------------------------------------------- main

def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        return worker_main(sys.argv[2:])

    p = bench_parser(__doc__)
    add_cloud_options(p, "egnot")
    p.add_argument("--dims", type=int, nargs="+", default=[2, 16], help="d (default: 2 16)")
    p.add_argument("--n", type=int, default=4096, help="n = m rows per cloud (default: %(default)s)")
    p.add_argument("--steps", type=int, default=10,
                   help="training steps per timed run (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="best of (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=1024, help="(default: %(default)s)")
    p.add_argument("--langevin-steps", type=int, default=100, help="K (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=256, help="units per hidden layer (default: %(default)s)")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (default: %(default)s)")
    p.add_argument("--epsilon", type=float, default=0.1, help="(default: %(default)s)")
    p.add_argument("--step-size", type=float, default=0.01, help="Langevin eta (default: %(default)s)")
    p.add_argument("--torch-threads", type=int, default=2,
                   help="torch.set_num_threads; 0 = the machine's cores (default: %(default)s, "
                        "as many as perturbot's batch kernels use)")
    p.add_argument("--seed", type=int, default=0, help="PyTorch seed (run r uses seed + r)")
    p.add_argument("--skip-perturbot", action="store_true", help="PyTorch only (no ratios)")
    p.add_argument("--skip-torch", action="store_true", help="perturbot only (no ratios)")
    p.add_argument("--self-check", action="store_true",
                   help="first verify the PyTorch step in float64 on a tiny net (see above)")
    p.add_argument("--self-check-only", action="store_true", help="the self-check, then stop")
    p.add_argument("--perturbot-timeout", type=float, default=1800.0,
                   help="seconds before a perturbot run is killed (default: %(default)s)")
    p.add_argument("--peer-timeout", type=float, default=1800.0,
                   help="seconds before the PyTorch worker is killed (default: %(default)s)")
    args = p.parse_args()
    if min(args.steps, args.repeat, args.batch_size, args.langevin_steps, args.hidden,
           args.layers) < 1:
        p.error("--steps, --repeat, --batch-size, --langevin-steps, --hidden and --layers must "
                "be >= 1")
    if not (args.epsilon > 0 and 0 < args.step_size < 2 * args.epsilon):
        p.error("--epsilon and --step-size must be positive, with --step-size below 2·epsilon")

    t_start = time.perf_counter()
    selfcheck = None
    if args.self_check or args.self_check_only:
        print("\n== self-check (float64, tiny net)", flush=True)
        selfcheck = run_peer("selfcheck", args)
        for c in selfcheck.get("checks", []):
            print(f"   {'ok  ' if c['ok'] else 'FAIL'} {c['check']}: {c['value']:.3g}"
                  + (f" ({c['note']})" if c.get("note") else ""), flush=True)
        if "error" in selfcheck or not selfcheck.get("ok"):
            print("self-check FAILED" + (f": {selfcheck['error']}" if "error" in selfcheck else ""),
                  file=sys.stderr)
            return 1
        print("self-check passed", flush=True)
        if args.self_check_only:
            return 0

    cases = []
    for d in args.dims:
        xp, yp, made = make_clouds(args.data, args.n, d)
        print(f"\n== d = {d}, n = m = {args.n}: {'generated' if made else 'reusing'} "
              f"{xp.name}, {yp.name}", flush=True)
        case = {"d": d, "n": args.n}
        if not args.skip_perturbot:
            case["perturbot"] = run_perturbot(args, xp, yp, d)
        if not args.skip_torch:
            case["torch"] = run_peer("torch", args, xp, yp)
        for k in ("perturbot", "torch"):
            if k in case:
                r = case[k]
                print(f"   {k:9s} " + (f"{r['steps_per_second']:.3f} steps/s, "
                                       f"{r['langevin_steps_per_second']:.1f} Langevin steps/s"
                                       if ok(r) else fnum(r, "", "")), flush=True)
        cases.append(case)
    total_wall = time.perf_counter() - t_start

    # ------------------------------------------------------------------ report
    m = machine()
    v = versions(args.perturbot, ("numpy", "torch"))
    torch_threads = next((c["torch"]["threads"] for c in cases if ok(c.get("torch"))),
                         args.torch_threads)
    commands = []
    for c in cases:
        for k in ("perturbot", "torch"):
            if k in c:
                commands.append(f"- d = {c['d']}, {k}: `{c[k]['command']}`")
    check_lines = []
    if selfcheck is not None:
        check_lines = ["", "Self-check (`--self-check`, float64, d = 3, hidden [5, 5]): "
                       + ("**passed**" if selfcheck.get("ok") else "**FAILED**"), ""]
        check_lines += [f"- {c['check']}: {c['value']:.2g}" + (f" ({c['note']})" if c.get("note")
                                                                 else "")
                        for c in selfcheck["checks"]]
    hidden = [args.hidden] * args.layers
    doc = "\n".join([
        "# Energy-guided EOT (egnot) training benchmark: perturbot vs PyTorch (CPU)",
        "",
        generated_by("bench/egnot/run.sh", total_wall)
        + f" Throughput = training steps per second, best of {args.repeat} timed runs of "
        f"{args.steps} steps each (each from a fresh network, optimiser and buffer, after one "
        f"untimed warm-up step); Langevin steps/s = steps/s × K = {args.langevin_steps}. Both "
        f"peers train on the same float32 clouds (n = m = {args.n:,}). Ratio = perturbot "
        "steps/s / PyTorch steps/s, measured in this run (> 1× means perturbot is faster).",
        "",
        f"- machine: {describe_machine(m)}",
        f"- versions: python {v['python']}, torch {v['torch']}, numpy {v['numpy']}; "
        + describe_perturbot(v),
        f"- PyTorch threads: torch.set_num_threads({torch_threads}), 1 inter-op thread",
        f"- data: {CLOUD_RECIPE}; files under `{args.data}`",
        "",
        "## Results",
        "",
        *md_table(["d", "peer", "steps/s", "Langevin steps/s",
                   "ratio perturbot / PyTorch (steps/s)", "peak RSS (MiB)"],
                  [r for c in cases for r in result_rows(c)]),
        "",
        "Details (seconds = one timed run of all the steps; losses = each run's last step):",
        "",
        *md_table(["d", "peer", "seconds: best (all)", "warm-up step s", "threads",
                   "final losses", "notes"], [r for c in cases for r in detail_rows(c)]),
        *check_lines,
        "",
        "## What one training step is (identical in both peers)",
        "",
        f"- potential u: MLP d → {' → '.join(map(str, hidden))} → 1, LeakyReLU(0.2) after each "
        "hidden layer, none on the output; "
        + ", ".join(f"d = {d}: {param_count(d, args.hidden, args.layers):,} parameters"
                    for d in args.dims) + ".",
        f"- chains: batch {args.batch_size}; each row a pair from the FIFO replay buffer "
        f"(capacity {BUFFER_CAPACITY:,}) with probability {REPLAY_PROBABILITY} when it is not "
        "empty, else a fresh source x and y₀ ~ N(0, I).",
        f"- K = {args.langevin_steps} Langevin steps, no gradient into the parameters: "
        f"y ← y + ½∇u(y) − (η/(2ε))(y − x) + √η ξ, ε = {args.epsilon}, η = {args.step_size}; "
        "the (x, y_K) pairs go into the buffer.",
        f"- loss = −mean u(y_data) + mean u(y_K), y_data {args.batch_size} target rows drawn "
        "with replacement; one Adam step (lr 2e-4, β (0.2, 0.99), ε 1e-8).",
        "",
        "## How each peer was run",
        "",
        "- perturbot: hand-written Swift forward/backward passes, timed inside perturbot (file "
        "load excluded); threads as it reports them.",
        f"- PyTorch: eager float32 on the CPU, `torch.autograd.grad` of Σᵢu(yᵢ) w.r.t. y for "
        f"the drift (parameters requires_grad=False meanwhile), `torch.optim.Adam` (default "
        f"implementation), torch.set_num_threads({torch_threads}); each run in its own Python "
        "subprocess, whose peak RSS (ru_maxrss) includes the interpreter and torch.",
        "",
        "Commands:",
        "",
        *commands,
        "",
    ])
    write_outputs(doc, args, machine=m, versions=v, self_check=selfcheck, cases=cases)
    failed = any("error" in c.get(k, {}) for c in cases for k in ("perturbot", "torch"))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
