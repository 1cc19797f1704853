"""Benchmark: Sinkhorn's convergence accelerators at a small ε — perturbot vs OTT-JAX (CPU).

What is timed
  One Sinkhorn solve between the float32 clouds of bench/sinkhorn (x = N(0, I_d),
  y = 1.3·N(0, I_d) + 0.5, n = m), at ε = --epsilon-scale × std(C) (default 0.005: ten times
  below OTT-JAX's default rule, where plain Sinkhorn needs hundreds of iterations), threshold
  --threshold on the L1 column-marginal error, at most --max-iterations, with each accelerator
  set the same way in both peers:
    plain        no accelerator
    momentum     a constant over-relaxation ω (--omega)          OTT: Momentum(value=ω)
    adaptive     Lehmann's ω from iteration --adaptive-start      OTT: Momentum(start=S)
    ε-scaling    ε_t = ε·max(init·decayᵗ, 1)                      OTT: Epsilon(ε, init, decay)
    Anderson     memory --anderson-memory, refresh 1, ridge 1e-2  OTT: AndersonAcceleration(memory)
  perturbot: `perturbot bench sinkhorn ... --precision float --mode dense --repeat R --json` plus
  the accelerator's flags (seconds as it reports them: cost matrix + solve). OTT-JAX:
  `Sinkhorn(threshold, max_iterations, lse_mode=True, momentum=…, anderson=…)` on a dense
  PointCloud with that epsilon (or Epsilon scheduler), jitted; the first call (compilation) is
  excluded; best of R. OTT-JAX tests convergence every 10 iterations, perturbot every
  iteration, so OTT's counts are multiples of 10.

    bench/sinkhorn/accelerators.sh [--sizes 4096] [--dims 16 64] [--repeat 2]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (PERTURBOT, REPORT_DIR, bench_parser, describe_machine, describe_perturbot,  # noqa: E402
                    generated_by, jax_cpu_env, load_clouds_into_jax, machine, make_clouds, md_table,
                    run_json, versions, write_report)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import cost_moments  # noqa: E402


def variants(args) -> list[tuple[str, list[str], dict]]:
    """(name, perturbot flags, OTT settings) per accelerator."""
    return [
        ("plain", [], {}),
        (f"momentum ω = {args.omega:g}", ["--momentum", repr(args.omega)], {"momentum_value": args.omega}),
        (f"adaptive momentum from {args.adaptive_start}", ["--momentum", f"adaptive:{args.adaptive_start}"],
         {"momentum_start": args.adaptive_start}),
        (f"ε-scaling {args.epsilon_init:g} × {args.epsilon_decay:g}ᵗ",
         ["--epsilon-init", repr(args.epsilon_init), "--epsilon-decay", repr(args.epsilon_decay)],
         {"epsilon_init": args.epsilon_init, "epsilon_decay": args.epsilon_decay}),
        (f"Anderson, memory {args.anderson_memory}", ["--anderson", str(args.anderson_memory)],
         {"anderson_memory": args.anderson_memory}),
    ]


def worker_ott(spec: dict) -> dict:
    x, y = load_clouds_into_jax(spec["x"], spec["y"])
    import jax
    from ott.geometry import epsilon_scheduler, pointcloud
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import acceleration, sinkhorn

    settings = spec["settings"]
    kwargs = {}
    if "momentum_value" in settings:
        kwargs["momentum"] = acceleration.Momentum(value=settings["momentum_value"])
    if "momentum_start" in settings:
        kwargs["momentum"] = acceleration.Momentum(start=settings["momentum_start"])
    if "anderson_memory" in settings:
        kwargs["anderson"] = acceleration.AndersonAcceleration(memory=settings["anderson_memory"])
    eps = spec["epsilon"]
    if "epsilon_init" in settings:
        eps = epsilon_scheduler.Epsilon(target=eps, init=settings["epsilon_init"], decay=settings["epsilon_decay"])
    solver = sinkhorn.Sinkhorn(threshold=spec["threshold"], max_iterations=spec["max_iterations"], lse_mode=True,
                               **kwargs)

    @jax.jit
    def run(x, y):
        geom = pointcloud.PointCloud(x, y, epsilon=eps)
        out = solver(linear_problem.LinearProblem(geom))
        return out.reg_ot_cost, out.n_iters, out.converged

    t0 = time.perf_counter()
    jax.block_until_ready(run(x, y))
    first = time.perf_counter() - t0
    times = []
    for _ in range(spec["repeat"]):
        t0 = time.perf_counter()
        cost, iterations, converged = jax.block_until_ready(run(x, y))
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "seconds_all": times, "first_call_seconds": first,
            "iterations": int(iterations), "converged": bool(converged), "reg_ot_cost": float(cost)}


def run_perturbot(args, xp: Path, yp: Path, eps: float, flags: list[str]) -> dict:
    cmd = [str(args.perturbot), "bench", "sinkhorn", "--source", str(xp), "--target", str(yp),
           "--epsilon", repr(eps), "--threshold", repr(args.threshold),
           "--max-iterations", str(args.max_iterations), "--precision", "float", "--mode", "dense",
           "--repeat", str(args.repeat), "--json", *flags]
    return run_json(cmd, 3600)


def run_ott(args, xp: Path, yp: Path, eps: float, settings: dict) -> dict:
    spec = {"x": str(xp), "y": str(yp), "epsilon": eps, "threshold": args.threshold,
            "max_iterations": args.max_iterations, "repeat": args.repeat, "settings": settings}
    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", json.dumps(spec)]
    return run_json(cmd, 3600, jax_cpu_env())


def fmt(result: dict, key: str, spec: str) -> str:
    if "error" in result:
        return "failed"
    value = result.get(key)
    return "—" if value is None else format(value, spec)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "_worker":
        print(json.dumps(worker_ott(json.loads(sys.argv[2]))), flush=True)
        return 0
    p = bench_parser(__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[4096])
    p.add_argument("--dims", type=int, nargs="+", default=[16, 64])
    p.add_argument("--epsilon-scale", type=float, default=0.005)
    p.add_argument("--threshold", type=float, default=1e-3)
    p.add_argument("--max-iterations", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--omega", type=float, default=1.5)
    p.add_argument("--adaptive-start", type=int, default=20)
    p.add_argument("--epsilon-init", type=float, default=10.0)
    p.add_argument("--epsilon-decay", type=float, default=0.9)
    p.add_argument("--anderson-memory", type=int, default=5)
    p.add_argument("--data", type=Path, default=Path("/tmp/perturbot-bench/sinkhorn"))
    p.add_argument("--out", type=Path, default=REPORT_DIR / "sinkhorn-accelerators.md")
    args = p.parse_args()
    started = time.perf_counter()
    rows = []
    for n in args.sizes:
        for d in args.dims:
            xp, yp, _ = make_clouds(args.data, n, d)
            _, std = cost_moments(np.load(xp), np.load(yp))
            eps = args.epsilon_scale * std
            plain = {}
            for name, flags, settings in variants(args):
                ours = run_perturbot(args, xp, yp, eps, flags)
                peer = run_ott(args, xp, yp, eps, settings)
                print(n, d, name, ours, peer, flush=True)
                if name == "plain":
                    plain = {"ours": ours, "peer": peer}

                def gain(result: dict, base: dict) -> str:
                    if "error" in result or "error" in base or not result.get("converged"):
                        return "—"
                    return f"{base['seconds'] / result['seconds']:.2f}×"

                rel = "—"
                if "error" not in ours and "error" not in peer and ours.get("reg_ot_cost") is not None:
                    rel = f"{abs(peer['reg_ot_cost'] - ours['reg_ot_cost']) / abs(ours['reg_ot_cost']):.1e}"
                ratio = (f"{peer['seconds'] / ours['seconds']:.2f}×"
                         if "error" not in ours and "error" not in peer else "—")
                rows.append([f"{n:,} × {d}", f"{eps:.4g}", name,
                             fmt(ours, "seconds", ".3f"), fmt(ours, "iterations", "d"),
                             "yes" if ours.get("converged") else "**no**", gain(ours, plain["ours"]),
                             fmt(peer, "seconds", ".3f"), fmt(peer, "iterations", "d"),
                             "yes" if peer.get("converged") else "**no**", gain(peer, plain["peer"]),
                             fmt(ours, "reg_ot_cost", ".6g"), rel, ratio])
    m = machine()
    v = versions(args.perturbot, ("numpy", "jax", "jaxlib", "ott-jax"))
    lines = ["# Sinkhorn accelerators at a small ε: perturbot vs OTT-JAX (CPU)", "",
             generated_by("bench/sinkhorn/accelerators.sh", time.perf_counter() - started), "",
             f"- machine: {describe_machine(m)}",
             f"- versions: python {v['python']}, numpy {v['numpy']}, jax {v['jax']} (jaxlib {v['jaxlib']}), "
             f"ott-jax {v['ott-jax']}; " + describe_perturbot(v),
             f"- ε = {args.epsilon_scale:g} × std(C) (OTT-JAX's default rule is 0.05 × std), threshold "
             f"{args.threshold:g} (L1 column-marginal error), at most {args.max_iterations} iterations, float32, "
             f"dense cost; best of {args.repeat}. The script's docstring says how each accelerator is set in each peer.",
             "",
             "Gain = the solver's plain time / its time with the accelerator (> 1× helps). "
             "OTT-JAX s / perturbot s compares the two peers on the same row.", ""]
    lines += md_table(["n = m × d", "ε", "accelerator", "perturbot s", "iterations", "converged", "gain",
                       "OTT-JAX s", "OTT iterations", "OTT converged", "OTT gain", "perturbot reg_ot_cost",
                       "rel. diff OTT", "OTT-JAX s / perturbot s"], rows)
    write_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
