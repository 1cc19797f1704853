"""Benchmark: ICNN-OT training throughput — `perturbot bench icnn` vs the same step in JAX (CPU).

What is timed
  One *outer step* of CellOT's minimax training (Makkuva et al. 2020; CellOT's
  cellot/train/train.py with configs/models/cellot.yaml), identical in every peer:
    - two ICNNs f and g, hidden units [64, 64, 64, 64], sigma = LeakyReLU(0.2):
          z0  = sigma(A0 x + b0)^2
          z_k = sigma(W_{k-1} z_{k-1} + A_k x + b_k)        k = 1, 2, 3
          g(x) = W_3 z_3 + A_4 x + b_4                       (scalar)
      every A and W uniform in [-0.1, 0.1], biases 0; f's W (hidden-to-hidden, the last
      included) clamped >= 0 after initialisation (as perturbot's ICNNOTEstimator; g's W are
      only penalised). Parameters per network: 257 d + 257 + 3*64*64 + 64 (16,721 at
      d = 16, 29,057 at d = 64).
    - --inner-iterations (default 10) g-steps, each: a fresh batch x of --batch-size (256)
      rows drawn with replacement from the source cloud; T = grad_x g(x) per sample;
          loss_g = mean_i [f(T_i) - <x_i, T_i>] + 1.0 * sum_k ||relu(-W_k^g)||_F
      (Frobenius norm, not squared; its gradient is taken as 0 where relu(-W_k) = 0, as
      torch's norm backward and perturbot do); one Adam step on g (lr 1e-4, b1 0.5, b2 0.9,
      eps 1e-8, bias-corrected, no weight decay).
    - then one f-step: fresh batches x (source) and y (target);
          loss_f = mean f(y) - mean f(stop_gradient(grad_x g(x)))
      one Adam step on f (own optimiser state), then clamp every W of f to >= 0.
  So one outer step = 11 batches of 256, 10 second-order g updates (the gradient of loss_g
  w.r.t. g's parameters goes through grad_x g) and 1 first-order f update.

Peers (each in its own subprocess: this file with `_worker`; its own thread pools and RSS)
  perturbot  `perturbot bench icnn --source X.npy --target Y.npy --steps S
              --inner-iterations 10 --batch-size 256 --precision float --repeat R --json`;
              hand-written Swift forward/backward passes (no autodiff). It prints one JSON
              object: d, batch_size, hidden, inner_iterations, steps, seconds (best),
              seconds_all, steps_per_second (outer steps/s, best), g_steps_per_second,
              threads, peak_rss_bytes. Timed inside perturbot, file load excluded.
  JAX        pure functions (no flax), float32 (x64 off), JAX_PLATFORMS=cpu: jax.grad for
              grad_x g (the gradient of sum_i g(x_i), which is the per-sample gradient since
              rows are independent; --jax-input-grad vmap uses jax.vmap(jax.grad(g)) instead)
              and for the parameter gradients, optax.adam. The whole outer step (all inner
              g-steps and the f-step) is ONE jax.jit-compiled function; the inner g-steps run
              in a lax.fori_loop by default (--jax-loop fori; `unroll` writes them out as a
              Python loop inside the jit: on the 2-core dev machine ~10 % slower at d = 16,
              equal within noise at d = 64, and a 3-4x longer compile, 7-11 s vs 2-3 s).
              Batches are drawn inside the jit with jax.random.randint (threefry) from the
              clouds, which are jit arguments living on the device; the
              PRNG key is part of the carried state. The outer step is called S times from
              Python (asynchronous dispatch, one block_until_ready at the end), so the time
              includes JAX's per-call dispatch, as a training loop would.
  OTT-ICNN   (only when flax imports; run.sh installs flax and diffrax, pinned, into the venv
              unless --skip-ott) the same step with OTT-JAX's own network module,
              ott.neural.networks.icnn.ICNN(dim_data=d, dim_hidden=[64, 64, 64, 64],
              act_fn=leaky_relu(0.2), pos_weights=False), applied through flax. Its
              architecture is OTT's, NOT CellOT's: every input injection is a PosDefPotentials
              layer (per unit a rank-1 + diagonal quadratic form plus linear term and bias),
              plus a final quadratic potential; z0 is not squared; OTT's own initialisers.
              The W penalty and f's clamp act on its w_zs kernels. More work per step than
              the CellOT net, so its ratio is not like-for-like: it shows what a library ICNN
              costs under the same training loop.
  JAX and OTT: the first call (trace + compile + one step) is timed separately; then
  best of --repeat timings of S = --steps (default 200; OTT module: --ott-steps, default 40)
  outer steps each. Throughput = S / seconds. (The JAX step runs at about 100 outer
  steps/s at d = 16 and 60 at d = 64 on a 2-core AMD EPYC, so 200 steps take 2-4 s.)

Data: x = N(0, I_d), y = 1.3 N(0, I_d) + 0.5, n = m = --n (4096) rows, float32, seeded
(numpy default_rng(SeedSequence([20240607, n, d]))), saved as x_n{n}_d{d}.npy /
y_n{n}_d{d}.npy under --data. (The same recipe as bench/sinkhorn.)

--self-check runs, in float64 on a tiny net (d = 3, hidden [5, 5, 5, 5], batch 7), before the
benchmark: the JAX grad_x g against central finite differences; the parameter gradients of
loss_g (second order) and loss_f against central differences along random directions; the
penalty gradient (finite, 0 where no W is negative); f's W all >= 0 after an outer step,
and that the clamp was active (the same step unclamped leaves some W < 0, and the clamped
W are exactly max(unclamped, 0)); the fori and unrolled outer steps agree; the same checks for
the OTT module when flax is there. --self-check-only stops after it.

Run it through run.sh, which provides the venv (.venv-ot; see run.sh):
    swift build -c release
    bench/neural/run.sh [--dims 16 64] [--steps 200] [--repeat 3] [--skip-perturbot] ...
    bench/neural/run.sh --self-check-only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402  (bench/common.py)
    CLOUD_RECIPE, add_cloud_options, bench_parser, describe_machine, describe_perturbot, fbytes,
    flag_problems, generated_by, is_executable, jax_cpu_env, load_clouds_into_jax, machine,
    make_clouds, md_table, peak_rss_bytes, run_json, versions, write_outputs)

import numpy as np

HIDDEN = [64, 64, 64, 64]
SLOPE = 0.2          # LeakyReLU negative slope
INIT_SCALE = 0.1     # uniform(-0.1, 0.1)
PENALTY = 1.0        # CellOT fnorm_penalty
ADAM = dict(learning_rate=1e-4, b1=0.5, b2=0.9, eps=1e-8)
FLAX_PIN = "flax==0.12.8"      # what run.sh installs (keep in step with run.sh)
DIFFRAX_PIN = "diffrax==0.7.2"


# ----------------------------------------------------------------------------- data

def param_count(d: int, hidden: list[int]) -> int:
    units = hidden + [1]
    return sum(u * d + u for u in units) + sum(a * b for a, b in zip(units[:-1], units[1:]))


# ----------------------------------------------------------------------------- the JAX step

def cellot_net(hidden: list[int]):
    """(init, apply, get_w, map_w) of CellOT's ICNN as pure JAX functions.

    Parameters: {"A": [d x u_k], "b": [u_k], "W": [u_k x u_{k+1}]} (row-vector convention,
    x @ A); apply(p, x) maps a batch (B, d) to (B,) and one point (d,) to a scalar."""
    import jax
    import jax.numpy as jnp

    units = list(hidden) + [1]

    def init(key, d, dtype):
        keys = jax.random.split(key, 2 * len(units))
        u = lambda k, shape: jax.random.uniform(k, shape, dtype, -INIT_SCALE, INIT_SCALE)
        return {"A": [u(keys[k], (d, units[k])) for k in range(len(units))],
                "b": [jnp.zeros((units[k],), dtype) for k in range(len(units))],
                "W": [u(keys[len(units) + k], (units[k], units[k + 1]))
                      for k in range(len(units) - 1)]}

    def sigma(v):  # torch LeakyReLU: derivative at 0 is the slope (where(v > 0))
        return jnp.where(v > 0, v, SLOPE * v)

    def apply(p, x):
        z = sigma(x @ p["A"][0] + p["b"][0])
        z = z * z
        for k in range(1, len(units) - 1):
            z = sigma(z @ p["W"][k - 1] + x @ p["A"][k] + p["b"][k])
        out = z @ p["W"][-1] + x @ p["A"][-1] + p["b"][-1]
        return out[..., 0]

    def get_w(p):
        return p["W"]

    def map_w(p, fn):
        return {**p, "W": [fn(w) for w in p["W"]]}

    return init, apply, get_w, map_w


def ott_net(d: int, hidden: list[int]):
    """(init, apply, get_w, map_w) of ott.neural.networks.icnn.ICNN (needs flax)."""
    import functools
    import jax
    import flax.linen as nn
    from ott.neural.networks.icnn import ICNN

    model = ICNN(dim_data=d, dim_hidden=list(hidden),
                 act_fn=functools.partial(nn.leaky_relu, negative_slope=SLOPE),
                 pos_weights=False)
    n_w = len(hidden)  # w_zs_0 .. w_zs_{K-1}: hidden-to-hidden kernels, the last to 1 unit

    def init(key, d_, dtype):
        import jax.numpy as jnp
        p = model.init(key, jnp.ones((1, d_), dtype))["params"]
        return jax.tree_util.tree_map(lambda a: a.astype(dtype), p)

    def apply(p, x):
        return model.apply({"params": p}, x)

    def get_w(p):
        return [p[f"w_zs_{k}"]["kernel"] for k in range(n_w)]

    def map_w(p, fn):
        q = dict(p)
        for k in range(n_w):
            q[f"w_zs_{k}"] = {**p[f"w_zs_{k}"], "kernel": fn(p[f"w_zs_{k}"]["kernel"])}
        return q

    return init, apply, get_w, map_w


def safe_fro(m):
    """||m||_F with gradient 0 (not NaN) at m = 0, as torch's norm backward."""
    import jax.numpy as jnp
    s = jnp.sum(m * m)
    pos = s > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, s, 1.0)), 0.0)


def make_training(net, batch: int, inner: int, loop: str, input_grad: str,
                  clamp_f: bool = True):
    """Builds (init_state, losses, outer_step) for one network family.

    outer_step(state, X, Y) -> (state, (loss_g_last, loss_f)) is jit-compiled: `inner`
    g-steps then one f-step, batches drawn with jax.random inside."""
    import jax
    import jax.numpy as jnp
    import optax

    init, apply, get_w, map_w = net
    opt = optax.adam(**ADAM)

    if input_grad == "vmap":
        def transport(p, x):
            return jax.vmap(jax.grad(lambda xi: apply(p, xi)))(x)
    else:
        def transport(p, x):
            return jax.grad(lambda xx: jnp.sum(apply(p, xx)))(x)

    def loss_g(pg, pf, x):
        t = transport(pg, x)
        pen = sum(safe_fro(jax.nn.relu(-w)) for w in get_w(pg))
        return jnp.mean(apply(pf, t) - jnp.sum(x * t, axis=-1)) + PENALTY * pen

    def loss_f(pf, pg, x, y):
        t = jax.lax.stop_gradient(transport(pg, x))
        return jnp.mean(apply(pf, y)) - jnp.mean(apply(pf, t))

    def clamp(p):
        return map_w(p, lambda w: jnp.maximum(w, 0))

    def init_state(key, d, dtype):
        kf, kg, kd = jax.random.split(key, 3)
        pf = clamp(init(kf, d, dtype))
        pg = init(kg, d, dtype)
        return {"f": pf, "g": pg, "of": opt.init(pf), "og": opt.init(pg), "key": kd}

    def draw(key, cloud):
        return cloud[jax.random.randint(key, (batch,), 0, cloud.shape[0])]

    def g_step(pg, og, pf, key, X):
        x = draw(key, X)
        lg, grads = jax.value_and_grad(loss_g)(pg, pf, x)
        upd, og = opt.update(grads, og, pg)
        return optax.apply_updates(pg, upd), og, lg

    def outer(state, X, Y):
        pf, pg, of, og = state["f"], state["g"], state["of"], state["og"]
        key, kin, kx, ky = jax.random.split(state["key"], 4)
        ikeys = jax.random.split(kin, inner)
        lg = jnp.zeros((), X.dtype)
        if loop == "fori":
            def body(i, carry):
                pg, og, _ = carry
                return g_step(pg, og, pf, ikeys[i], X)
            pg, og, lg = jax.lax.fori_loop(0, inner, body, (pg, og, lg))
        else:
            for i in range(inner):
                pg, og, lg = g_step(pg, og, pf, ikeys[i], X)
        x, y = draw(kx, X), draw(ky, Y)
        lf, grads = jax.value_and_grad(loss_f)(pf, pg, x, y)
        upd, of = opt.update(grads, of, pf)
        pf = optax.apply_updates(pf, upd)
        if clamp_f:
            pf = clamp(pf)
        return {"f": pf, "g": pg, "of": of, "og": og, "key": key}, (lg, lf)

    return init_state, {"g": loss_g, "f": loss_f, "transport": transport, "clamp": clamp,
                        "opt": opt}, jax.jit(outer)


def worker_train(a: argparse.Namespace) -> dict:
    X, Y = load_clouds_into_jax(a.x, a.y)
    import jax
    import jax.numpy as jnp

    d = int(X.shape[1])
    if a.peer == "ott":
        try:
            net = ott_net(d, HIDDEN)
        except ImportError as e:
            return {"peer": "ott", "unavailable": f"cannot import OTT's ICNN module: {e}"}
    else:
        net = cellot_net(HIDDEN)
    init_state, _, outer = make_training(net, a.batch_size, a.inner_iterations, a.loop,
                                         a.input_grad)
    state = init_state(jax.random.key(a.seed), d, jnp.float32)
    n_params = sum(int(v.size) for v in jax.tree_util.tree_leaves(state["f"]))

    t0 = time.perf_counter()
    state, losses = outer(state, X, Y)
    jax.block_until_ready((state, losses))
    first = time.perf_counter() - t0

    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            state, losses = outer(state, X, Y)
        jax.block_until_ready((state, losses))
        times.append(time.perf_counter() - t0)
    lg, lf = (float(v) for v in losses)
    wmin = min(float(jnp.min(w)) for w in net[2](state["f"]))
    best = min(times)
    return {"peer": a.peer, "d": d, "batch_size": a.batch_size, "hidden": HIDDEN,
            "inner_iterations": a.inner_iterations, "steps": a.steps, "loop": a.loop,
            "input_grad": a.input_grad, "params_per_network": n_params,
            "first_call_seconds": first, "seconds": best, "seconds_all": times,
            "steps_per_second": a.steps / best,
            "g_steps_per_second": a.steps * a.inner_iterations / best,
            "final_loss_g": lg, "final_loss_f": lf, "min_w_f": wmin,
            "finite": bool(np.isfinite(lg) and np.isfinite(lf)),
            "devices": [str(dv) for dv in jax.devices()], "dtype": str(X.dtype),
            "peak_rss_bytes": peak_rss_bytes()}


# ----------------------------------------------------------------------------- self-check

def worker_selfcheck(a: argparse.Namespace) -> dict:
    """float64 checks of the JAX step on a tiny net (see the module docstring)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    d, hidden, batch, inner = 3, [5, 5, 5, 5], 7, 3
    results: list[dict] = []

    def record(name, value, tol, ok=None):
        ok = bool(value <= tol) if ok is None else bool(ok)
        results.append({"check": name, "value": float(value), "tol": tol, "ok": ok})

    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.standard_normal((64, d)))
    Y = jnp.asarray(1.3 * rng.standard_normal((64, d)) + 0.5)

    def fd_input_grad(apply, p, x, h=1e-6):
        cols = []
        for j in range(x.shape[1]):
            e = jnp.zeros_like(x).at[:, j].set(h)
            cols.append((apply(p, x + e) - apply(p, x - e)) / (2 * h))
        return jnp.stack(cols, axis=1)

    def rel(a_, b_):
        a_, b_ = np.asarray(a_), np.asarray(b_)
        return float(np.max(np.abs(a_ - b_)) / max(np.max(np.abs(b_)), 1e-300))

    def directional_fd(loss, params, args, key, h=1e-6):
        """(autodiff <grad, v>, central difference along v) for a random unit direction v."""
        leaves, tree = jax.tree_util.tree_flatten(params)
        keys = jax.random.split(key, len(leaves))
        v = [jax.random.normal(k, l.shape, l.dtype) for k, l in zip(keys, leaves)]
        norm = jnp.sqrt(sum(jnp.sum(x * x) for x in v))
        v = [x / norm for x in v]
        vt = jax.tree_util.tree_unflatten(tree, v)
        g = jax.grad(loss)(params, *args)
        ad = sum(jnp.sum(a_ * b_) for a_, b_ in zip(jax.tree_util.tree_leaves(g), v))
        plus = jax.tree_util.tree_map(lambda p, t: p + h * t, params, vt)
        minus = jax.tree_util.tree_map(lambda p, t: p - h * t, params, vt)
        fd = (loss(plus, *args) - loss(minus, *args)) / (2 * h)
        return float(ad), float(fd)

    families = [("cellot", cellot_net(hidden))]
    try:
        families.append(("ott", ott_net(d, hidden)))
    except ImportError as e:
        results.append({"check": "ott: import", "value": 0.0, "tol": 0.0, "ok": True,
                        "note": f"skipped, {e}"})

    for fam, net in families:
        init, apply, get_w, map_w = net
        for input_grad in ("sum", "vmap"):
            init_state, fns, _ = make_training(net, batch, inner, "fori", input_grad)
            st = init_state(jax.random.key(3), d, jnp.float64)
            x = X[:batch]
            t = fns["transport"](st["g"], x)
            record(f"{fam}: grad_x g ({input_grad}) vs central differences, max rel. err",
                   rel(t, fd_input_grad(apply, st["g"], x)), 1e-7)
        init_state, fns, _ = make_training(net, batch, inner, "fori", "sum")
        st = init_state(jax.random.key(3), d, jnp.float64)
        # make some of g's W negative so the penalty term is active
        pg = map_w(st["g"], lambda w: w - 0.05)
        x, y = X[:batch], Y[:batch]
        ad, fd = directional_fd(fns["g"], pg, (st["f"], x), jax.random.key(5))
        record(f"{fam}: d loss_g / d theta_g (2nd order, penalty active) vs central diff., "
               "rel. err", abs(ad - fd) / max(abs(fd), 1e-12), 1e-6)
        ad, fd = directional_fd(fns["f"], st["f"], (pg, x, y), jax.random.key(6))
        record(f"{fam}: d loss_f / d theta_f vs central diff., rel. err",
               abs(ad - fd) / max(abs(fd), 1e-12), 1e-6)
        # penalty gradient where no W is negative: exactly 0, not NaN
        pos = map_w(st["g"], lambda w: jnp.abs(w))
        pen = lambda p: sum(safe_fro(jax.nn.relu(-w)) for w in get_w(p))
        gp = jax.grad(pen)(pos)
        gmax = max(float(jnp.max(jnp.abs(l))) for l in jax.tree_util.tree_leaves(gp))
        finite = all(bool(jnp.all(jnp.isfinite(l))) for l in jax.tree_util.tree_leaves(gp))
        record(f"{fam}: penalty gradient at W >= 0 (finite and 0), max |grad|", gmax, 0.0,
               ok=finite and gmax == 0.0)
        # outer step: f's W >= 0 afterwards, and the clamp was active
        outs = {}
        for loop in ("fori", "unroll"):
            _, _, outer = make_training(net, batch, inner, loop, "sum")
            outs[loop] = outer(st, X, Y)
        new, (lg, lf) = outs["fori"]
        wmin = min(float(jnp.min(w)) for w in get_w(new["f"]))
        record(f"{fam}: min W of f after an outer step (must be >= 0)", abs(wmin), 0.0,
               ok=wmin >= 0.0 and np.isfinite(float(lg)) and np.isfinite(float(lf)))
        # the same step without the clamp: some W of f go negative, and the clamped step is
        # exactly max(unclamped, 0)
        _, _, outer_nc = make_training(net, batch, inner, "fori", "sum", clamp_f=False)
        raw_f = outer_nc(st, X, Y)[0]["f"]
        negatives = sum(int(jnp.sum(w < 0)) for w in get_w(raw_f))
        same = max(float(jnp.max(jnp.abs(jnp.maximum(u, 0) - c)))
                   for u, c in zip(get_w(raw_f), get_w(new["f"])))
        record(f"{fam}: W entries of f the clamp set to 0 in that step (must be > 0)",
               negatives, 0.0, ok=negatives > 0 and same == 0.0)
        diff = max(rel(a_, b_) for a_, b_ in zip(jax.tree_util.tree_leaves(outs["fori"]),
                                                 jax.tree_util.tree_leaves(outs["unroll"]))
                   if jnp.issubdtype(jnp.asarray(a_).dtype, jnp.floating))
        record(f"{fam}: fori vs unrolled outer step, max rel. diff", diff, 1e-12)
    return {"ok": all(r["ok"] for r in results), "checks": results}


def worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.py _worker")
    p.add_argument("peer", choices=["jax", "ott", "selfcheck"])
    p.add_argument("--x")
    p.add_argument("--y")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--inner-iterations", type=int, default=10)
    p.add_argument("--loop", choices=["fori", "unroll"], default="fori")
    p.add_argument("--input-grad", choices=["sum", "vmap"], default="sum")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    result = worker_selfcheck(a) if a.peer == "selfcheck" else worker_train(a)
    print(json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- running

def run_perturbot(args, xp: Path, yp: Path, n: int, d: int) -> dict:
    binary = args.perturbot
    if not is_executable(binary):
        return {"error": f"binary not found at {binary} (build with `swift build -c release`, "
                         "or pass --perturbot PATH)"}
    cmd = [str(binary), "bench", "icnn", "--source", str(xp), "--target", str(yp),
           "--steps", str(args.steps), "--inner-iterations", str(args.inner_iterations),
           "--batch-size", str(args.batch_size), "--precision", "float",
           "--repeat", str(args.repeat), "--json"]
    res = run_json(cmd, args.perturbot_timeout, quote_failure=True)
    if "error" in res:
        return res
    problems = []
    missing = [k for k in ("d", "batch_size", "hidden", "inner_iterations", "steps", "seconds",
                           "steps_per_second") if k not in res]
    if missing:
        problems.append(f"missing keys {missing}")
    else:
        if int(res["d"]) != d:
            problems.append(f"d {res['d']} != {d}")
        if int(res["batch_size"]) != args.batch_size:
            problems.append(f"batch_size {res['batch_size']} != {args.batch_size}")
        if list(res["hidden"]) != HIDDEN:
            problems.append(f"hidden {res['hidden']} != {HIDDEN}")
        if int(res["inner_iterations"]) != args.inner_iterations:
            problems.append(f"inner_iterations {res['inner_iterations']}")
        if int(res["steps"]) != args.steps:
            problems.append(f"steps {res['steps']} != {args.steps}")
        sps = args.steps / float(res["seconds"])
        if abs(sps - float(res["steps_per_second"])) > 1e-3 * sps:
            problems.append(f"steps_per_second {res['steps_per_second']} != steps / seconds "
                            f"= {sps:.4g}")
    return flag_problems(res, problems)


def run_peer(peer: str, args, xp: Path | None = None, yp: Path | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", peer]
    if peer != "selfcheck":
        steps = args.ott_steps if peer == "ott" else args.steps
        cmd += ["--x", str(xp), "--y", str(yp), "--steps", str(steps),
                "--repeat", str(args.repeat), "--batch-size", str(args.batch_size),
                "--inner-iterations", str(args.inner_iterations), "--loop", args.jax_loop,
                "--input-grad", args.jax_input_grad, "--seed", str(args.seed)]
    return run_json(cmd, args.peer_timeout, jax_cpu_env(), quote_failure=True)


# ----------------------------------------------------------------------------- report

def ok(res: dict | None) -> bool:
    return res is not None and "error" not in res and "unavailable" not in res


def fsps(res: dict | None, skipped: str = "skipped") -> str:
    if res is None:
        return skipped
    if "error" in res:
        return f"**failed: {res['error']}**"
    if "unavailable" in res:
        return f"not available ({res['unavailable']})"
    return f"{float(res['steps_per_second']):.2f}"


def ratio(a: dict | None, b: dict | None) -> str:
    if not (ok(a) and ok(b)):
        return "—"
    return f"{float(a['steps_per_second']) / float(b['steps_per_second']):.2f}×"


def detail_rows(case: dict) -> list[list[str]]:
    rows = []
    for key, label in (("perturbot", "perturbot"), ("jax", "JAX (CellOT net)"),
                       ("ott", "JAX + OTT ICNN module")):
        res = case.get(key)
        if res is None:
            continue
        if not ok(res):
            rows.append([str(case["d"]), label, fsps(res)] + ["—"] * 7)
            continue
        secs = ", ".join(f"{float(s):.3f}" for s in res.get("seconds_all", [])) or "?"
        if key == "perturbot":
            first = "—"
            threads = str(res.get("threads", "?"))
            losses = "—"
            notes = "; ".join(res.get("problems", []))
            if notes:
                notes = f"**{notes}**"
        else:
            first = f"{res['first_call_seconds']:.2f}"
            threads = "XLA CPU pool"
            losses = f"{res['final_loss_g']:.4g} / {res['final_loss_f']:.4g}"
            notes = (f"{res['params_per_network']:,} params/net; loop {res['loop']}; "
                     f"∇ₓg via {'jax.grad of Σg' if res['input_grad'] == 'sum' else 'vmap(grad)'}")
            if not res.get("finite", True):
                notes += "; **non-finite loss**"
        gsps = res.get("g_steps_per_second")
        rss = res.get("peak_rss_bytes")
        rows.append([str(case["d"]), label, f"{float(res['steps_per_second']):.2f}",
                     "—" if gsps is None else f"{float(gsps):.1f}",
                     f"{float(res['seconds']):.3f} ({secs})", first, threads,
                     fbytes(rss), losses, notes])
    return rows


# ----------------------------------------------------------------------------- main

def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        return worker_main(sys.argv[2:])

    p = bench_parser(__doc__)
    add_cloud_options(p, "neural")
    p.add_argument("--dims", type=int, nargs="+", default=[16, 64], help="d (default: 16 64)")
    p.add_argument("--n", type=int, default=4096, help="n = m rows per cloud (default: %(default)s)")
    p.add_argument("--steps", type=int, default=200,
                   help="outer steps per timed measurement (default: %(default)s; JAX runs "
                        "~60-100 outer steps/s on 2 cores, so a few seconds each)")
    p.add_argument("--ott-steps", type=int, default=40,
                   help="outer steps per timing of the OTT-module peer, ~10x slower per step "
                        "(default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="best of (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the peers in turn this many times per d and keep each one's best round: on a "
                        "machine whose speed drifts, every peer then meets the same conditions "
                        "(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=256, help="(default: %(default)s)")
    p.add_argument("--inner-iterations", type=int, default=10, help="(default: %(default)s)")
    p.add_argument("--jax-loop", choices=["fori", "unroll"], default="fori",
                   help="inner g-steps as lax.fori_loop or unrolled in the jit (default: %(default)s)")
    p.add_argument("--jax-input-grad", choices=["sum", "vmap"], default="sum",
                   help="grad_x g as jax.grad of sum_i g(x_i), or jax.vmap(jax.grad(g)) "
                        "(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="JAX init/sampling seed")
    p.add_argument("--skip-perturbot", action="store_true", help="JAX peers only (no ratios)")
    p.add_argument("--skip-jax", action="store_true")
    p.add_argument("--skip-ott", action="store_true", help="skip the OTT ICNN-module peer")
    p.add_argument("--self-check", action="store_true",
                   help="first verify the JAX step in float64 on a tiny net (see above)")
    p.add_argument("--self-check-only", action="store_true", help="the self-check, then stop")
    p.add_argument("--perturbot-timeout", type=float, default=900.0,
                   help="seconds before a perturbot run is killed (default: %(default)s)")
    p.add_argument("--peer-timeout", type=float, default=900.0,
                   help="seconds before a JAX worker is killed (default: %(default)s)")
    args = p.parse_args()
    if args.steps < 1 or args.ott_steps < 1 or args.repeat < 1 or args.rounds < 1:
        p.error("--steps, --ott-steps, --repeat and --rounds must be >= 1")

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

        def keep_best(key: str, result: dict) -> None:
            if key not in case or (ok(result) and (not ok(case[key]) or
                                   result["steps_per_second"] > case[key]["steps_per_second"])):
                case[key] = result

        for _ in range(args.rounds):
            if not args.skip_perturbot:
                keep_best("perturbot", run_perturbot(args, xp, yp, args.n, d))
            if not args.skip_jax:
                keep_best("jax", run_peer("jax", args, xp, yp))
            if not args.skip_ott:
                keep_best("ott", run_peer("ott", args, xp, yp))
        for k in ("perturbot", "jax", "ott"):
            if k in case:
                r = case[k]
                extra = (f" (first call {r['first_call_seconds']:.2f} s)"
                         if ok(r) and "first_call_seconds" in r else "")
                print(f"   {k:9s} {fsps(r)}" + (" outer steps/s" if ok(r) else "") + extra,
                      flush=True)
        cases.append(case)
    total_wall = time.perf_counter() - t_start

    # ------------------------------------------------------------------ report
    m = machine()
    v = versions(args.perturbot, ("numpy", "jax", "jaxlib", "optax", "ott-jax", "flax"))
    show_ott = not args.skip_ott
    header = ["d", "perturbot outer steps/s", "JAX outer steps/s"]
    if show_ott:
        header.append("OTT ICNN module outer steps/s")
    header.append("perturbot / JAX")
    if show_ott:
        header.append("perturbot / OTT module")
    rows = []
    for c in cases:
        row = [str(c["d"]), fsps(c.get("perturbot")), fsps(c.get("jax"))]
        if show_ott:
            row.append(fsps(c.get("ott")))
        row.append(ratio(c.get("perturbot"), c.get("jax")))
        if show_ott:
            row.append(ratio(c.get("perturbot"), c.get("ott")))
        rows.append(row)
    details = []
    for c in cases:
        details += detail_rows(c)
    ott_note = ("skipped (--skip-ott)" if args.skip_ott else
                "not available in this run" if not any(ok(c.get("ott")) for c in cases) else
                "measured")
    check_lines = []
    if selfcheck is not None:
        check_lines = ["", "Self-check (`--self-check`, float64, d = 3, hidden [5, 5, 5, 5], "
                       "batch 7): " + ("**passed**" if selfcheck.get("ok") else "**FAILED**"), ""]
        check_lines += [f"- {c['check']}: {c['value']:.2g}" + (f" ({c['note']})" if c.get("note")
                                                                 else "")
                        for c in selfcheck["checks"]]
    pb_cmd = (f"`perturbot bench icnn --source X.npy --target Y.npy --steps {args.steps} "
              f"--inner-iterations {args.inner_iterations} --batch-size {args.batch_size} "
              f"--precision float --repeat {args.repeat} --json`")
    doc = "\n".join([
        "# ICNN-OT training benchmark: perturbot vs JAX (CPU)",
        "",
        generated_by("bench/neural/run.sh", total_wall)
        + " Throughput = outer steps per second, best of "
        f"{args.repeat} timings of {args.steps} outer steps each"
        + ("" if args.skip_ott else f" ({args.ott_steps} for the OTT-module peer)")
        + ("" if args.rounds == 1 else
           f", and the best of {args.rounds} rounds in which the peers ran in turn (`--rounds {args.rounds}`)")
        + "; every peer trains on the same "
        f"float32 clouds (n = m = {args.n:,}). Ratios = perturbot throughput / peer throughput, "
        "measured in this run (> 1× means perturbot is faster).",
        "",
        f"- machine: {describe_machine(m)}",
        f"- versions: python {v['python']}, numpy {v['numpy']}, jax {v['jax']} (jaxlib "
        f"{v['jaxlib']}), optax {v['optax']}, ott-jax {v['ott-jax']}, flax {v['flax']}; "
        + describe_perturbot(v),
        f"- data: {CLOUD_RECIPE}; files under `{args.data}`",
        f"- OTT ICNN-module peer: {ott_note}",
        "",
        "## Results",
        "",
        *md_table(header, rows),
        "",
        "Details (seconds = one timing of all the outer steps; g-steps/s = inner g-steps per "
        "second = outer steps/s × inner iterations; losses = last g-step's loss_g / the f-step's "
        "loss_f after all timings):",
        "",
        *md_table(["d", "peer", "outer steps/s", "g-steps/s", "seconds: best (all)",
                   "jit + 1st step s", "threads", "peak RSS", "final loss_g / loss_f",
                   "notes"], details),
        *check_lines,
        "",
        "## What one outer step is (identical in every peer)",
        "",
        f"CellOT's minimax step (Makkuva et al. 2020; cellot/train/train.py, "
        f"configs/models/cellot.yaml): {args.inner_iterations} g-steps, then 1 f-step, batch "
        f"{args.batch_size} drawn with replacement.",
        "",
        "- Networks f, g: CellOT's ICNN, hidden [64, 64, 64, 64], σ = LeakyReLU(0.2): "
        "z₀ = σ(A₀x + b₀)², z_k = σ(W_{k−1}z_{k−1} + A_k x + b_k) (k = 1…3), "
        "g(x) = W₃z₃ + A₄x + b₄; A, W uniform in [−0.1, 0.1], b = 0; f's W clamped ≥ 0 at "
        "init. " + ", ".join(f"d = {d}: {param_count(d, HIDDEN):,} parameters per network"
                             for d in args.dims) + ".",
        "- g-step: fresh source batch x; T = ∇ₓg(x); loss_g = mean[f(T) − ⟨x, T⟩] + "
        "1.0·Σ_k‖relu(−W_k^g)‖_F (gradient through ∇ₓg: second order); Adam (lr 1e-4, "
        "β₁ 0.5, β₂ 0.9, ε 1e-8) on g.",
        "- f-step: fresh batches x, y; loss_f = mean f(y) − mean f(stop_grad(∇ₓg(x))); Adam on "
        "f; clamp f's W ≥ 0.",
        "",
        "## How each peer was run",
        "",
        f"- perturbot: {pb_cmd}; hand-written Swift forward/backward passes; time and "
        "threads as perturbot reports them (timed inside; file load excluded).",
        "- JAX: pure functions (no flax) with jax.grad (∇ₓg = "
        + ("jax.grad of Σ_i g(x_i)" if args.jax_input_grad == "sum" else "jax.vmap(jax.grad(g))")
        + "), optax.adam, float32, JAX_PLATFORMS=cpu (XLA's CPU thread pool, default flags). "
        "The whole outer step is one `jax.jit` function; the inner g-steps are "
        + ("a `lax.fori_loop`" if args.jax_loop == "fori" else "unrolled in the jit")
        + "; batches are drawn inside the jit with `jax.random.randint` from the clouds, which "
        "are device arrays passed as arguments. The outer step is called from Python once per "
        "step (asynchronous dispatch, one `block_until_ready` per timing), so per-call "
        "dispatch is included. The compile + first step is reported separately and not timed.",
        "- JAX + OTT ICNN module: the same loop and losses with "
        "`ott.neural.networks.icnn.ICNN(dim_data=d, dim_hidden=[64, 64, 64, 64], "
        "act_fn=leaky_relu(0.2), pos_weights=False)` through flax. OTT's architecture differs "
        "from CellOT's (each input injection is a PosDefPotentials layer: per unit a rank-1 + "
        "diagonal quadratic form, linear term and bias; a final quadratic potential; z₀ not "
        "squared; OTT's initialisers), so it does more work per step; the penalty and f's clamp "
        "act on its w_zs kernels. Its ratio is not like-for-like.",
        "- Each JAX peer runs in its own Python subprocess; its peak RSS (ru_maxrss) includes "
        "the interpreter, JAX and the compiled program.",
        "",
    ])
    write_outputs(doc, args, machine=m, versions=v, self_check=selfcheck, cases=cases)
    failed = any("error" in c.get(k, {}) for c in cases for k in ("perturbot", "jax", "ott"))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
