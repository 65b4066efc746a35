"""Claims about one large gradient step in two-layer networks (seeds 002 and 003).

Model A (Moniri et al.) and model B (Demir and Dogan) keep their own notations;
see :mod:`theory.onestep`.  Every statistical check uses Student-t confidence
intervals over independent replicas (fixed seeds from the claim's stream), at
level ``1 - 0.05 / (number of intervals in the claim)`` (Bonferroni).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import stats

from numerics.claims.base import ClaimContext, Evidence, claim, contains, holds_if
from numerics.claims.figures import new_figure, save
from numerics.simulate.onestep import (
    ConfigA,
    ConfigB,
    gradient_a,
    limited_blas,
    numpy_pair,
    simulate_a,
    simulate_b,
)
from theory.onestep import gradient_overlap, hermite_degree, predict_spikes

SOURCE_A = "Moniri, Lee, Hassani, Dobriban, ICML 2024 (seed 003); reference one-step.md A"
SOURCE_B = "Demir and Dogan, ICLR 2025 (seed 002); reference one-step.md B"
FAMILY_LEVEL = 0.05
POLYNOMIAL = "z + (z^2 - 1)/2"


def interval(values, level: float) -> tuple[float, float]:
    """Mean and Student-t half-width at confidence ``level`` (two-sided)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float(values.mean()), math.inf
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1)
    return float(values.mean()), float(half / math.sqrt(values.size))


def trend(label: str, first, last, level: float, *, decreasing: bool = False, **inputs) -> tuple:
    """Welch interval on ``mean(last) - mean(first)``: a check and an ``undecided`` flag.

    The check fails when the change has the wrong sign beyond the interval; a change
    of the right sign that stays inside the interval passes but is undecided.
    """
    first, last = np.asarray(first, float), np.asarray(last, float)
    change = float(last.mean() - first.mean())
    if decreasing:
        change = -change
    var = first.var(ddof=1) / first.size + last.var(ddof=1) / last.size
    dof = (
        var**2
        / (
            (first.var(ddof=1) / first.size) ** 2 / (first.size - 1)
            + (last.var(ddof=1) / last.size) ** 2 / (last.size - 1)
        )
        if var > 0
        else 1.0
    )
    half = float(stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(var))
    check = holds_if(
        label,
        change > -half,
        "decreasing" if decreasing else "increasing",
        [float(first.mean()), float(last.mean())],
        change=change,
        half_width=half,
        level=level,
        **inputs,
    )
    return check, not change > half


def bonferroni(count: int) -> float:
    return 1 - FAMILY_LEVEL / max(count, 1)


def _add_figure(evidence: Evidence, path) -> None:
    if path is not None:
        evidence.figures.append(path)


# ----------------------------------------------------------------------------
# Model A


@claim(
    "onestep.spike-count",
    source=SOURCE_A,
    statement="With eta = n^alpha, the centred updated feature matrix has l(alpha) outliers, "
    "l(alpha) = #{k : (k-1)/(2k) < alpha} restricted to mu_k(sigma) != 0, for tanh, ReLU and "
    "a polynomial activation over a grid of alpha away from the thresholds.",
)
def spike_count_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    size = 2000 if ctx.full else 400
    alphas = (0.15, 0.29, 0.355) if ctx.full else (0.29, 0.355)
    table = []
    for activation in ("tanh", "relu", POLYNOMIAL):
        for alpha in alphas:
            prediction = predict_spikes(activation, "tanh", alpha)
            config = ConfigA(activation, "tanh", alpha, size, size, size)
            result = simulate_a(config, rng)
            ratios = (result.singular_values[:4] / result.bulk_edge_updated).round(3).tolist()
            table.append(
                {
                    "activation": activation,
                    "alpha": alpha,
                    "predicted": prediction.count,
                    "degrees": list(prediction.spike_degrees),
                    "measured": result.outliers,
                    "top_over_edge": ratios,
                }
            )
            evidence.add(
                holds_if(
                    f"{activation}, alpha={alpha}: outliers = l(alpha) restricted",
                    result.outliers == prediction.count,
                    prediction.count,
                    result.outliers,
                    n=size,
                    degrees=list(prediction.spike_degrees),
                    top_over_edge=ratios,
                )
            )
    evidence.details["runs"] = table
    evidence.note = (
        "eta = n^alpha without a prefactor; an outlier exceeds the bulk edge of the updated "
        "features (He_1..He_6 of X beta_hat projected out) by 4 min(n, N)^(-2/3). The spike "
        "ratio grows like n^(k alpha - (k-1)/2), a tiny power, so weak predicted spikes can stay "
        "inside the bulk at any size reachable here."
    )
    return evidence


@claim(
    "onestep.null-target-no-spike",
    source=SOURCE_A,
    statement="(as printed in the reference) No spike at all when mu_1(sigma*) = 0.",
)
def null_target_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    size = 1500 if ctx.full else 400
    for activation in ("tanh", "relu"):
        config = ConfigA(activation, "he(2)", 0.355, size, size, size, spike_degrees=(1,))
        result = simulate_a(config, rng)
        evidence.add(
            holds_if(
                f"{activation}, target He_2, alpha=0.355: no outlier",
                result.outliers == 0,
                0,
                result.outliers,
                top_over_edge=(result.singular_values[:3] / result.bulk_edge_updated).tolist(),
                alignment_with_target_feature=result.alignment_target,
                alignment_with_learned_feature=result.alignment_learned,
            )
        )
    evidence.note = (
        "Our derivation disagrees with this statement: beta_hat = X^T y/n keeps the norm "
        "sqrt(E[y^2]/psi) > 0 when mu_1(sigma*) = 0, so the gradient still has a rank-one part "
        "and spikes appear; they point along a direction independent of beta* (alignment with "
        "He_k(X beta*) tends to 0, see onestep.spike-directions)."
    )
    return evidence


def _alignment_runs(ctx, activation, target, alpha, sizes, replicas, rng):
    prediction = predict_spikes(activation, target, alpha)
    out = {}
    for size in sizes:
        config = ConfigA(
            activation, target, alpha, size, size, size, spike_degrees=prediction.spike_degrees
        )
        out[size] = [simulate_a(config, rng) for _ in range(replicas)]
    return prediction, out


@claim(
    "onestep.spike-directions",
    source=SOURCE_A,
    statement="The k-th outlier's left singular vector aligns with the degree-k feature "
    "He_k(X beta_hat/||beta_hat||), alignment growing with size; its alignment with "
    "He_k(X beta*) tends to overlap^k (0 when mu_1(sigma*) = 0).",
)
def spike_directions_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    sizes = (500, 1000, 2000) if ctx.full else (200, 600)
    replicas = 8
    cases = [("tanh", "tanh", 0.355), (POLYNOMIAL, "tanh", 0.355), ("relu", "he(2)", 0.355)]
    results = {case: _alignment_runs(ctx, *case, sizes, replicas, rng) for case in cases}
    checks = sum(2 * len(p.spike_degrees) for p, _ in results.values())
    level = bonferroni(checks)
    fig, ax = new_figure()
    for (activation, target, _alpha), (prediction, runs) in results.items():
        limit = gradient_overlap(target, 1.0)
        large = sizes[-1]
        for i, k in enumerate(prediction.spike_degrees):
            # only outliers actually present at every size are examined
            present = all(r.outliers > i for rs in runs.values() for r in rs)
            if not present:
                evidence.details[f"{activation} k={k}"] = "not an outlier at these sizes"
                continue
            learned = {n: [r.alignment_learned[i] for r in rs] for n, rs in runs.items()}
            means = [float(np.mean(learned[n])) for n in sizes]
            check, undecided = trend(
                f"{activation} (target {target}) outlier {i + 1} vs He_{k}(X beta_hat): "
                "alignment grows with n",
                learned[sizes[0]],
                learned[large],
                level,
                sizes=list(sizes),
            )
            evidence.add(check)
            evidence.inconclusive |= undecided
            target_align = [r.alignment_target[i] for r in runs[large]]
            mean, half = interval(target_align, level)
            predicted = limit.alignment(k)
            evidence.add(
                contains(
                    f"{activation} (target {target}) outlier {i + 1} vs He_{k}(X beta*) "
                    f"-> overlap^{k}",
                    predicted,
                    mean - half,
                    mean + half,
                    n=large,
                    level=level,
                )
            )
            ax.plot(sizes, means, "o-", label=f"{activation}, k={k}")
    ax.set_xscale("log")
    ax.set_xlabel("n = d = N")
    ax.set_ylabel("|<u_k, He_k(X beta_hat)>|")
    ax.legend(fontsize=7)
    _add_figure(evidence, save(fig, ctx.figure_path("alignment")))
    return evidence


@limited_blas
def gradient_overlaps(
    target: str, n: int, d: int, width: int, noise: float, rng: np.random.Generator
) -> tuple[float, float]:
    """``<beta_hat/||beta_hat||, beta*>`` and ``|<v_1(G), beta*>|`` for one draw (model A)."""
    star, _ = numpy_pair(target)
    _, dsigma = numpy_pair("tanh")
    beta = rng.standard_normal(d)
    beta /= np.linalg.norm(beta)
    w0 = rng.standard_normal((width, d))
    w0 /= np.linalg.norm(w0, axis=1, keepdims=True)
    a = rng.standard_normal(width) / np.sqrt(width)
    x = rng.standard_normal((n, d))
    y = star(x @ beta) + noise * rng.standard_normal(n)
    g = gradient_a(x, y, w0, a, dsigma)
    beta_hat = x.T @ y / n
    v = rng.standard_normal(d)
    for _ in range(30):
        v = g.T @ (g @ v)
        v /= np.linalg.norm(v)
    return float(beta_hat @ beta / np.linalg.norm(beta_hat)), float(abs(v @ beta))


@claim(
    "onestep.gradient-overlap",
    source=SOURCE_A,
    statement="<beta_hat/||beta_hat||, beta*> -> mu_1(sigma*)/sqrt(mu_1(sigma*)^2 + "
    "(E[sigma*(Z)^2] + sigma_eps^2)/psi), psi = n/d, for beta_hat = X^T y/n and for the top "
    "right singular vector of the gradient; the gap to the limit shrinks with n.",
)
def gradient_overlap_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    sizes = (500, 2000) if ctx.full else (200, 800)
    replicas = 20 if ctx.full else 10
    cases = [("tanh", 1.0, 0.0), ("relu", 2.0, 0.5), ("z^3", 0.5, 0.0)]
    level = bonferroni(2 * len(cases))
    for target, psi, noise in cases:
        limit = gradient_overlap(target, psi, noise**2).value
        gaps = {}
        for n in sizes:
            d = round(n / psi)
            draws = np.array(
                [gradient_overlaps(target, n, d, n, noise, rng) for _ in range(replicas)]
            )
            gaps[n] = np.abs(draws.mean(axis=0) - limit)
            if n == sizes[-1]:
                for column, name in enumerate(("beta_hat", "top singular vector of G")):
                    mean, half = interval(draws[:, column], level)
                    evidence.add(
                        contains(
                            f"{target}, psi={psi}, sigma_eps={noise}: {name}",
                            limit,
                            mean - half,
                            mean + half,
                            n=n,
                            d=d,
                            replicas=replicas,
                            level=level,
                        )
                    )
        evidence.details[f"{target}, psi={psi}: |mean - limit| by n"] = {
            str(n): g.tolist() for n, g in gaps.items()
        }
    return evidence


@claim(
    "onestep.training-surrogate",
    source=SOURCE_A,
    statement="The ridge training objective on the updated features approaches the surrogate "
    "min_b min_w (1/n)||y - P b - F0 w||^2 + lambda ||w||^2 (P = powers of X beta_hat for the "
    "spike degrees, unpenalised) as the sizes grow.",
)
def training_surrogate_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    sizes = (500, 1000, 2000) if ctx.full else (200, 600)
    replicas = 8
    cases = [("tanh", 0.29), ("relu", 0.355)]
    level = bonferroni(len(cases))
    fig, ax = new_figure()
    for activation, alpha in cases:
        prediction = predict_spikes(activation, "tanh", alpha)
        gaps = {}
        for n in sizes:
            config = ConfigA(
                activation,
                "tanh",
                alpha,
                n,
                n,
                n,
                noise=0.3,
                spike_degrees=prediction.spike_degrees,
            )
            runs = [simulate_a(config, rng) for _ in range(replicas)]
            gaps[n] = [(r.train_error - r.surrogate) / r.surrogate for r in runs]
        first, last = sizes[0], sizes[-1]
        check, undecided = trend(
            f"{activation}, alpha={alpha}: relative gap |train - surrogate|/surrogate shrinks "
            f"from n={first} to n={last}",
            np.abs(gaps[first]),
            np.abs(gaps[last]),
            level,
            decreasing=True,
            means={str(n): float(np.mean(np.abs(g))) for n, g in gaps.items()},
        )
        evidence.add(check)
        evidence.inconclusive |= undecided
        ax.errorbar(
            sizes,
            [np.mean(np.abs(gaps[n])) for n in sizes],
            yerr=[interval(np.abs(gaps[n]), level)[1] for n in sizes],
            marker="o",
            label=f"{activation}, alpha={alpha}",
        )
    if evidence.inconclusive:
        evidence.note = "a gap shrinks, but not beyond the confidence interval of the change"
    ax.set_xscale("log")
    ax.set_xlabel("n = d = N")
    ax.set_ylabel("|train - surrogate| / surrogate")
    ax.legend()
    _add_figure(evidence, save(fig, ctx.figure_path("surrogate-gap")))
    return evidence


# ----------------------------------------------------------------------------
# Model B


def _paired_gaps(config: ConfigB, replicas: int, rng, degree: int) -> dict[str, np.ndarray]:
    train, test, errors = [], [], []
    for _ in range(replicas):
        result = simulate_b(config, rng, degrees=(degree,))
        model = result.models[degree]
        train.append(result.network.train - model.train)
        test.append(result.network.test - model.test)
        errors.append([result.network.train, result.network.test, model.train, model.test])
    return {"train": np.array(train), "test": np.array(test), "errors": np.array(errors)}


@claim(
    "onestep.hermite-model",
    source=SOURCE_B,
    statement="For beta inside each degree interval, the network and the Hermite model of degree "
    "L(beta) have the same training and test errors within Monte Carlo error, and the gap "
    "shrinks with n.",
)
def hermite_model_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    sizes = (250, 500, 1000) if ctx.full else (100, 300)
    replicas = 10 if ctx.full else 8
    activations = ("relu", "tanh") if ctx.full else ("relu",)
    betas = (0.3, 0.6, 0.74)
    level = bonferroni(3 * len(betas) * len(activations))
    for activation in activations:
        for beta in betas:
            degree = hermite_degree(beta)
            gaps = {}
            for n in sizes:
                config = ConfigB(activation, n, n, n, alpha=0.5, beta=beta)
                gaps[n] = _paired_gaps(config, replicas, rng, degree)
            large = gaps[sizes[-1]]
            for kind in ("train", "test"):
                mean, half = interval(large[kind], level)
                evidence.add(
                    contains(
                        f"{activation}, beta={beta} (L={degree}): {kind} error gap at "
                        f"n={sizes[-1]}",
                        0.0,
                        mean - half,
                        mean + half,
                        level=level,
                    )
                )
            check, undecided = trend(
                f"{activation}, beta={beta}: |test gap| shrinks with n",
                np.abs(gaps[sizes[0]]["test"]),
                np.abs(gaps[sizes[-1]]["test"]),
                level,
                decreasing=True,
                sizes=list(sizes),
            )
            evidence.add(check)
            evidence.inconclusive |= undecided
    if evidence.inconclusive:
        evidence.note = "some gap shrinks, but not beyond the confidence interval of the change"
    return evidence


def _sweep(base: ConfigB, field: str, values, replicas: int, rng) -> list[dict]:
    rows = []
    for value in values:
        config = replace(base, **{field: value})
        degree = hermite_degree(config.beta)
        gaps = _paired_gaps(config, replicas, rng, degree)
        rows.append({"value": value, "degree": degree, **gaps})
    return rows


@claim(
    "onestep.hermite-curves",
    source=SOURCE_B,
    statement="Error versus width ratio k/m (beta=0.74, alpha=1/2), versus alpha (beta=0.74) and "
    "versus beta (alpha=1/2): at every point the network's and the Hermite model's test errors "
    "agree within Monte Carlo error.",
)
def hermite_curves_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    m = 1000 if ctx.full else 150
    replicas = 20 if ctx.full else 6
    ratios = (0.25, 0.5, 1.0, 1.5, 2.0) if ctx.full else (0.5, 1.5)
    alphas = tuple(np.linspace(0.0, 1.0, 6).round(2)) if ctx.full else (0.0, 1.0)
    betas = (0.1, 0.3, 0.45, 0.55, 0.6, 0.7, 0.74, 0.78) if ctx.full else (0.3, 0.74)
    base = ConfigB("relu", m, m, m, alpha=0.5, beta=0.74)
    widths = [max(10, int(r * m)) for r in ratios]
    width_rows = _sweep(base, "k", widths, replicas, rng)
    for row, ratio in zip(width_rows, ratios, strict=True):
        row["value"] = ratio
    sweeps = {
        "width ratio k/m": width_rows,
        "alpha": _sweep(base, "alpha", alphas, replicas, rng),
        "beta": _sweep(base, "beta", betas, replicas, rng),
    }
    count = sum(len(rows) for rows in sweeps.values())
    level = bonferroni(count)
    fig, axes = new_figure(12, 3.6)
    fig.clear()
    axes = fig.subplots(1, 3)
    for ax, (name, rows) in zip(axes, sweeps.items(), strict=True):
        xs = [row["value"] for row in rows]
        net = [row["errors"][:, 1].mean() for row in rows]
        model = [row["errors"][:, 3].mean() for row in rows]
        ax.plot(xs, net, "o-", label="network (test)")
        ax.plot(xs, model, "s--", label="Hermite model (test)")
        ax.set_xlabel(name)
        ax.set_ylabel("generalization error")
        for row in rows:
            mean, half = interval(row["test"], level)
            evidence.add(
                contains(
                    f"{name} = {row['value']} (L={row['degree']}): test gap",
                    0.0,
                    mean - half,
                    mean + half,
                    level=level,
                    m=m,
                    replicas=replicas,
                )
            )
    axes[0].legend(fontsize=7)
    _add_figure(evidence, save(fig, ctx.figure_path("curves")))
    evidence.details["sweeps"] = {
        name: [
            {"value": r["value"], "degree": r["degree"], "mean_errors": r["errors"].mean(0)}
            for r in rows
        ]
        for name, rows in sweeps.items()
    }
    return evidence


@claim(
    "onestep.linear-grid",
    source=SOURCE_B,
    statement="On an (alpha, beta) grid, the linear model (L = 1) reproduces the network's test "
    "error wherever L(beta) = 1 (beta < 1/2); elsewhere the gap is reported.",
)
def linear_grid_claim(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    rng = ctx.rng()
    n, m = (400, 500) if ctx.full else (100, 120)
    replicas = 5 if ctx.full else 4
    alphas = np.linspace(0.04, 0.94, 30) if ctx.full else np.array([0.1, 0.5, 0.9])
    betas = np.linspace(0.04, 0.94, 30) if ctx.full else np.array([0.2, 0.4, 0.7])
    betas = np.array([b for b in betas if abs(1 / (1 - b) - round(1 / (1 - b))) > 1e-6])
    inside = sum(b < 0.5 for b in betas) * len(alphas)
    level = bonferroni(inside)
    gap = np.zeros((len(betas), len(alphas)))
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            config = ConfigB("relu", n, m, m, alpha=float(alpha), beta=float(beta))
            runs = [simulate_b(config, rng, degrees=(1,)) for _ in range(replicas)]
            diffs = [r.network.test - r.models[1].test for r in runs]
            gap[i, j] = np.mean(diffs)
            if beta < 0.5:
                mean, half = interval(diffs, level)
                evidence.add(
                    contains(
                        f"alpha={alpha:.2f}, beta={beta:.2f}: network - linear test error",
                        0.0,
                        mean - half,
                        mean + half,
                        level=level,
                    )
                )
    fig, ax = new_figure()
    image = ax.imshow(
        gap,
        origin="lower",
        aspect="auto",
        extent=(alphas[0], alphas[-1], betas[0], betas[-1]),
        cmap="coolwarm",
    )
    fig.colorbar(image, ax=ax, label="network - linear model (test error)")
    ax.set_xlabel("alpha (weight)")
    ax.set_ylabel("beta (strength)")
    _add_figure(evidence, save(fig, ctx.figure_path("grid")))
    evidence.details["gap"] = gap
    evidence.details["alphas"] = alphas
    evidence.details["betas"] = betas
    return evidence
