"""Benchmark: Monge gap training throughput — `perturbot ot --map monge_gap` vs OTT-JAX's
`MongeGapEstimator` on CPU, same network, batch, optimiser and losses.

What is timed
  Training steps of the Monge gap estimator (Uscidda & Cuturi 2023) as OTT-JAX 0.6's tutorial
  sets it up, in both peers: the map T(x) = x + MLP(x), hidden [128, 64, 64], leaky ReLU
  (slope 0.01), Adam lr 1e-3; per step a batch of 256 source and 256 target points drawn from
  the clouds, the loss S_ε(T#x, y) + 1.0 · MongeGap(x, T(x)) with ε OTT's default (0.05 × the
  std of each batch's cost), Sinkhorn threshold 1e-3.
    perturbot  `perturbot ot --map monge_gap --iterations S --precision float --json` (float32 as
               OTT-JAX and as pipelines train; once more with --precision double for the
               table's last columns) (gradients by the envelope
               theorem, hand-written passes; at most 1,000 Sinkhorn iterations per solve, as
               set in MongeGapEstimator); steps/s = S / the fit's own seconds (reading the
               files and applying the map excluded).
    OTT-JAX    `ott.neural.methods.monge_gap.MongeGapEstimator` with `PotentialMLP(dim_hidden=
               [128, 64, 64], is_potential=False)`, `optax.adam(1e-3)`, fitting loss
               `sinkhorn_divergence(PointCloud, T(x), y)` and regulariser
               `monge_gap_from_samples(x, T(x))` with their defaults (OTT's Sinkhorn: up to
               2,000 iterations, gradients by implicit differentiation); its jitted step is
               timed after 5 warm-up steps (compilation excluded; reported apart).
  Each peer runs in its own process on the same float32 clouds; best of --repeat.

    bench/monge_gap/run.sh [--dims 16 64] [--n 2000] [--steps 200] [--ott-steps 100] [--repeat 2]
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
from common import PERTURBOT, REPORT_DIR, describe_machine, machine, md_table, write_report  # noqa: E402


def worker_ott(a: argparse.Namespace) -> dict:
    import jax
    import optax
    from ott.geometry import pointcloud
    from ott.neural.methods.monge_gap import MongeGapEstimator, monge_gap_from_samples
    from ott.neural.networks.potentials import PotentialMLP
    from ott.tools import sinkhorn_divergence

    x = np.load(a.x).astype(np.float32)
    y = np.load(a.y).astype(np.float32)
    rng = np.random.default_rng(a.seed)

    def loader(cloud):
        while True:
            yield cloud[rng.integers(0, len(cloud), size=a.batch_size)]

    def fitting_loss(mapped, target):
        div, out = sinkhorn_divergence.sinkhorn_divergence(pointcloud.PointCloud, mapped, target, static_b=True)
        return div, None

    def regularizer(source, mapped):
        gap, out = monge_gap_from_samples(source, mapped, return_output=True)
        return gap, out.n_iters

    def estimator(steps: int) -> MongeGapEstimator:
        return MongeGapEstimator(
            dim_data=x.shape[1], model=PotentialMLP(dim_hidden=[128, 64, 64], is_potential=False),
            optimizer=optax.adam(learning_rate=1e-3), fitting_loss=fitting_loss, regularizer=regularizer,
            regularizer_strength=1.0, num_train_iters=steps, logging=False, rng=jax.random.PRNGKey(a.seed))

    start = time.perf_counter()
    warm = estimator(5)
    state, _ = warm.train_map_estimator(loader(x), loader(y), loader(x), loader(y))
    jax.block_until_ready(state.params)
    first = time.perf_counter() - start
    seconds = []
    for _ in range(a.repeat):
        solver = estimator(a.steps)
        solver.step_fn = warm.step_fn  # the compiled step: same shapes, same functions
        start = time.perf_counter()
        state, _ = solver.train_map_estimator(loader(x), loader(y), loader(x), loader(y))
        jax.block_until_ready(state.params)
        seconds.append(time.perf_counter() - start)
    best = min(seconds)
    return {"steps": a.steps, "seconds": best, "seconds_all": seconds, "steps_per_second": a.steps / best,
            "compile_and_5_steps": first}


def run_perturbot(binary: Path, xp: Path, yp: Path, steps: int, repeat: int, out: Path, precision: str) -> dict:
    seconds, unconverged = [], None
    for _ in range(repeat):
        cmd = [str(binary), "ot", "--source", str(xp), "--target", str(yp), "--map", "monge_gap",
               "--iterations", str(steps), "--apply", str(xp), "--out", str(out), "--json", "--seed", "0",
               "--precision", precision]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
        result = json.loads(proc.stdout.strip().splitlines()[-1])["map"]
        seconds.append(result["fit_seconds"])
        unconverged = result.get("unconverged_steps")
    best = min(seconds)
    return {"steps": steps, "seconds": best, "seconds_all": seconds, "steps_per_second": steps / best,
            "unconverged_steps": unconverged}


def run_ott(xp: Path, yp: Path, steps: int, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "_worker", "--x", str(xp), "--y", str(yp), "--steps", str(steps),
           "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        w = argparse.ArgumentParser()
        for name in ("--x", "--y"):
            w.add_argument(name, required=True)
        w.add_argument("--steps", type=int, required=True)
        w.add_argument("--repeat", type=int, required=True)
        w.add_argument("--batch-size", type=int, default=256)
        w.add_argument("--seed", type=int, default=0)
        print(json.dumps(worker_ott(w.parse_args(sys.argv[2:]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--perturbot", type=Path, default=PERTURBOT)
    p.add_argument("--dims", type=int, nargs="+", default=[16, 64])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--steps", type=int, default=200, help="perturbot's timed steps")
    p.add_argument("--ott-steps", type=int, default=100, help="OTT-JAX's timed steps")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--data", type=Path, default=Path("/tmp/perturbot-bench/monge_gap"))
    p.add_argument("--out", type=Path, default=REPORT_DIR / "monge_gap.md")
    args = p.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = []
    for d in args.dims:
        rng = np.random.default_rng([20240607, args.n, d])
        xp, yp = args.data / f"x_n{args.n}_d{d}.npy", args.data / f"y_n{args.n}_d{d}.npy"
        np.save(xp, rng.standard_normal((args.n, d)).astype(np.float32))
        np.save(yp, (1.3 * rng.standard_normal((args.n, d)) + 0.5).astype(np.float32))
        ours = run_perturbot(args.perturbot, xp, yp, args.steps, args.repeat, args.data / "mapped.csv", "float")
        double = run_perturbot(args.perturbot, xp, yp, args.steps, args.repeat, args.data / "mapped.csv", "double")
        peer = run_ott(xp, yp, args.ott_steps, args.repeat)
        print(d, ours, double, peer, flush=True)

        def rate(result: dict) -> str:
            return f"{result['steps_per_second']:.1f}" if "error" not in result else result["error"]

        def ratio(result: dict) -> str:
            return (f"{result['steps_per_second'] / peer['steps_per_second']:.2f}×"
                    if "error" not in result and "error" not in peer else "—")

        rows.append([str(d), rate(ours), rate(peer), ratio(ours), str(ours.get("unconverged_steps", "")),
                     f"{peer.get('compile_and_5_steps', float('nan')):.1f}" if "error" not in peer else "",
                     rate(double), ratio(double)])
    lines = ["# Monge gap training: perturbot vs OTT-JAX (CPU)", "",
             f"Generated by `bench/monge_gap/run.sh {' '.join(sys.argv[1:])}` ({time.perf_counter() - started:.0f} s).",
             f"Machine: {describe_machine(machine())}.", "",
             f"Clouds: n = {args.n} float32 points, x = N(0, I_d), y = 1.3·N(0, I_d) + 0.5; batch 256; perturbot "
             f"{args.steps} steps, OTT-JAX {args.ott_steps} steps (jitted, after 5 warm-up steps); best of {args.repeat}. "
             "The script's docstring says what one step is in each peer.", ""]
    lines += md_table(["d", "perturbot steps/s (float32)", "OTT-JAX steps/s (float32)", "perturbot / OTT-JAX",
                       "perturbot steps with an unconverged Sinkhorn", "OTT-JAX compile + 5 steps (s)",
                       "perturbot steps/s (float64)", "float64 perturbot / OTT-JAX"], rows)
    lines.append("")
    write_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
