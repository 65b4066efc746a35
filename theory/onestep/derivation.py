"""The derivation document of the one-step results for an activation and a target."""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.onestep.hermite_b import degree_interval, hermite_degree, hermite_model
from featcheck.theory.onestep.overlap_a import gradient_overlap, overlap_symbolic
from featcheck.theory.onestep.spikes_a import predict_spikes, spike_threshold
from featcheck.theory.onestep.spikes_b import predict_spikes_b

_NOTATION = (
    "Two notations are kept apart. Model A (Moniri, Lee, Hassani, Dobriban 2024, arXiv "
    "2310.07891): n samples, dimension d, width N, psi = n/d, step eta = n^alpha with alpha in "
    "(0, 1/2). Model B (Demir and Dogan 2025, arXiv 2503.00856): dimension "
    "n, m samples, width k, eta = n^(beta alpha), spike size n^(beta (1 - alpha)). Conversion: "
    "(n, d, N) of A is (m, n, k) of B; A's alpha is not B's alpha, and B's beta is not 2 alpha "
    "of A because B's second layer is w/sqrt(k) with w ~ N(0, I/k) (rows of the gradient "
    "~ 1/k) while A's is a ~ N(0, I/N) (rows ~ 1/sqrt(N))."
)


def _coefficient_symbol(c) -> sp.Expr:
    if c.exact is not None:
        return sp.nsimplify(c.exact)
    return sp.Symbol(f"{sp.Float(c.value, 15)} \\pm {float(c.error):.1e}")


def onestep_derivation(
    activation: FunctionLike,
    target: FunctionLike,
    *,
    alpha: float = 0.3,
    psi: float = 1.0,
    beta: float | None = 0.74,
    scale: float = 1.0,
    weight: float = 0.5,
) -> Derivation:
    """Spikes, thresholds, directions, the overlap limit, the surrogate and the Hermite model.

    Model A at step exponent ``alpha`` and ratio ``psi = n/d``; model B (omitted when
    ``beta`` is ``None``) at strength ``beta``, weight ``weight`` and Hermite scale ``scale``.
    """
    activation, target = as_function(activation), as_function(target)
    doc = Derivation(
        f"One gradient step: activation {activation.name}, target {target.name}",
        summary=_NOTATION,
    )
    prediction = predict_spikes(activation, target, alpha)
    k, eta, n, N = sp.symbols("k eta n N", positive=True)
    doc.add(
        "Model A: the gradient is rank one plus a small part",
        sp.Symbol(
            r"G = \frac{1}{n}\big[(y a^\top)\odot\sigma'(X W_0^\top)\big]^\top X"
            r" = \mu_1(\sigma)\, a\, \hat\beta^\top + \Delta,\quad \hat\beta = X^\top y / n"
        ),
        "sigma'(w.x) = mu_1(sigma) + (zero-mean terms); the zero-mean part gives Delta with "
        "||Delta||_op = O(polylog/sqrt(N)) while ||a beta_hat^T||_op = ||beta_hat|| = O(1).",
        "featcheck's derivation, in the setting of Moniri et al. (2024), arXiv 2310.07891",
    )
    doc.add(
        "Model A: Taylor expansion of the updated features",
        sp.Symbol(
            r"\sigma(X W_1^\top) \approx \sigma(X W_0^\top) + \sum_{k\ge1}"
            r"\frac{\mu_k(\sigma)}{k!}(\eta\mu_1(\sigma))^k"
            r" (X\hat\beta)^{\circ k}(a^{\circ k})^\top"
        ),
        "The row shift eta mu_1 a_j (beta_hat . x) is O(n^(alpha - 1/2)) -> 0; sigma^(k)(w_j . x) "
        "is replaced by its mean mu_k(sigma) (Stein), the remainder being small in operator norm.",
    )
    strength = eta**k * sp.sqrt(n) * N ** ((1 - k) / 2) / sp.sqrt(n)
    doc.add(
        "Model A: spike-to-bulk ratio and threshold",
        [
            sp.Eq(sp.Symbol(r"\mathrm{ratio}_k"), strength),
            sp.Symbol(r"\mathrm{ratio}_k \to \infty \iff \alpha > \frac{k-1}{2k}"),
        ],
        "||(X beta_hat)^(o k)|| ~ sqrt(n), ||a^(o k)|| ~ N^((1-k)/2), bulk ~ sqrt(n); with "
        "eta = n^alpha and N proportional to n the ratio is n^(k alpha - (k-1)/2).",
    )
    thresholds = [spike_threshold(j) for j in range(1, 7)]
    doc.add(
        "Model A: thresholds", sp.Symbol(", ".join(sp.latex(t) for t in thresholds) + r", \dots")
    )
    rows = [
        sp.Symbol(
            rf"\mu_{{{s.degree}}}(\sigma) = {sp.latex(_coefficient_symbol(s.coefficient))}"
            rf"\quad(\text{{{s.status}}})"
        )
        for s in prediction.degrees
    ]
    doc.add(
        f"Model A: spike count at alpha = {prediction.alpha}",
        [
            sp.Symbol(rf"l(\alpha) = {prediction.unrestricted}"),
            *rows,
            sp.Symbol(
                rf"\text{{spikes at degrees }} {list(prediction.spike_degrees)}"
                rf" \Rightarrow {prediction.count}"
            ),
        ],
        "A degree counts only if mu_k(sigma) is exactly non-zero or beyond its error bound; "
        "mu_1(sigma) = 0 removes every spike (the gradient has no rank-one part).",
    )
    mu1_star = prediction.mu1_target.coefficient
    doc.add(
        "Model A: spike directions",
        sp.Symbol(
            r"u_k \to \frac{\mathrm{He}_k(X\hat\beta/\|\hat\beta\|)}{\|\cdot\|},\qquad"
            r"\langle u_k, \mathrm{He}_k(X\beta_{\star})\rangle \to \rho^k"
        ),
        "The spike strengths decrease with k, so the singular vectors are the Gram-Schmidt "
        "orthogonalisation of the powers (X beta_hat)^(o k), which under the Gaussian is He_k. "
        "With rho the overlap below, corr(He_k(U), He_k(V)) = rho^k (Mehler). "
        f"Here mu_1(sigma*) = {sp.latex(_coefficient_symbol(mu1_star))}: the spikes are "
        + (
            "informative."
            if prediction.informative
            else "NOT informative (rho = 0): present, along a direction independent of beta* "
            "(next step)."
        ),
    )
    finite, limit, symbols = overlap_symbolic()
    if not prediction.informative:
        _null_target(doc, target, prediction, limit, symbols, psi)
    overlap = gradient_overlap(target, psi)
    doc.add(
        "Model A: norm of beta_hat (exact at finite n, d) and its limit",
        [sp.Eq(sp.Symbol(r"\mathbb{E}\|\hat\beta\|^2"), finite), sp.Eq(sp.Symbol(r"\lim"), limit)],
        "m_2 = E[sigma*(Z)^2], m_2Z = E[sigma*(Z)^2 Z^2]; limit with d = n/psi, n -> infinity.",
    )
    doc.add(
        f"Model A: gradient overlap at psi = {overlap.psi}",
        sp.Eq(
            sp.Symbol(r"\rho = \langle\hat\beta/\|\hat\beta\|,\beta_{\star}\rangle"),
            sp.Symbol(
                rf"\frac{{\mu_1(\sigma^*)}}{{\sqrt{{{sp.latex(overlap.norm_squared)}}}}}"
                rf" = {float(overlap.overlap):.12g}"
            ),
        ),
        "<beta_hat, beta*> -> mu_1(sigma*) since the noise part of beta_hat has a vanishing "
        "component along a fixed direction.",
    )
    doc.add(
        "Model A: training-error surrogate",
        [
            sp.Symbol(
                r"\min_b\min_w \tfrac1n\|y - P b - F_0 w\|^2 + \lambda\|w\|^2"
                r" = y^\top M y - y^\top M P (P^\top M P)^{-1} P^\top M y"
            ),
            sp.Symbol(r"M = \lambda (F_0F_0^\top + n\lambda I)^{-1}"),
        ],
        "For fixed b the ridge minimum is r^T M r with r = y - P b (push-through identity); "
        "minimising the quadratic form over b gives the generalised least-squares residual. "
        "P holds (X beta_hat)^(o k) for the spike degrees: their strengths diverge, so the "
        "readout uses them at vanishing penalty.",
    )
    if beta is not None:
        L = hermite_degree(beta)
        low, high = degree_interval(L)
        model = hermite_model(activation, scale, L)
        doc.add(
            f"Model B: Hermite degree at beta = {beta}",
            [
                sp.Symbol(rf"L(\beta) = \lfloor 1/(1-\beta)\rfloor = {L}"),
                sp.Symbol(rf"\beta \in ({sp.latex(low)}, {sp.latex(high)})"),
            ],
            "Theorem 4: (l-2)/(l-1) < beta < (l-1)/l gives degree l - 1; undefined at "
            "beta = 1 - 1/j. At alpha = 0 the j-th Hermite term of a rank-one part of size "
            "n^((beta-1)/2) has norm n^(1 + j(beta-1)/2) against a bulk sqrt(n): it survives iff "
            "beta > (j-1)/j.",
            "Demir and Dogan (2025), arXiv 2503.00856, Theorem 4 (the degree intervals)",
        )
        rows = [
            sp.Eq(sp.Symbol(f"h_{{{c.degree}}}"), _coefficient_symbol(c) / sp.factorial(c.degree))
            for c in model.mu
        ]
        residual = model.residual_variance
        rows.append(
            sp.Eq(sp.Symbol("s_L^2"), residual.exact)
            if residual.exact is not None
            else sp.Symbol(
                f"s_L^2 = {sp.Float(residual.value, 15)} \\pm {float(residual.error):.1e}"
            )
        )
        doc.add(
            f"Model B: Hermite model of sigma(b z), b = {model.scale}",
            rows,
            "h_i = E[sigma(b Z) He_i(Z)]/i!, s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} i! h_i^2; "
            f"method: {model.method}. The readout uses sum h_i He_i(u/b) + s_L eps, fresh eps "
            "per entry; the gradient step uses the true sigma.",
        )
    if beta is not None:
        _model_b_spectrum(doc, activation, beta, weight, scale)
    second = hermite_coefficients(target, 0).second_moment
    doc.add(
        "Target second moment",
        sp.Eq(sp.Symbol(r"\mathbb{E}[\sigma^*(Z)^2]"), _coefficient_symbol(second)),
    )
    return doc


def _null_target(doc: Derivation, target: Function, prediction, limit, symbols, psi) -> None:
    """Model A with ``mu_1(sigma*) = 0``: the spikes stay, uninformative."""
    second = hermite_coefficients(target, 1).second_moment
    norm = limit.subs(symbols["mu1"], 0)
    value = norm.subs({symbols["m2"]: _coefficient_symbol(second), symbols["s2"]: 0,
                       symbols["psi"]: sp.nsimplify(psi)})  # fmt: skip
    doc.add(
        "Model A: a target with mu_1(sigma*) = 0 keeps the spikes",
        [
            sp.Symbol(
                r"\mathbb{E}[\sigma'(w^\top x)] = \mu_1(\sigma) \Rightarrow"
                r" G = \mu_1(\sigma)\, a\, \hat\beta^\top + \Delta"
                r"\ \text{whatever } \sigma^\star"
            ),
            sp.Eq(sp.Symbol(r"\lim \|\hat\beta\|^2\big|_{\mu_1(\sigma^\star) = 0}"), norm),
            sp.Eq(
                sp.Symbol(rf"\lim \|\hat\beta\|^{{2}},\ \psi = {sp.latex(sp.nsimplify(psi))}"),
                value,
            ),
            sp.Symbol(
                rf"\text{{spikes at degrees }} {list(prediction.spike_degrees)}"
                r"\ \text{(the count does not involve } \sigma^\star)"
            ),
            sp.Symbol(
                r"\langle \hat\beta, \beta_\star\rangle \to \mu_1(\sigma^\star) = 0,"
                r"\quad \mathbb{E}\,\mathrm{corr}(\mathrm{He}_k(X\hat\beta),"
                r" \mathrm{He}_k(X\beta_\star)) = 0\ (k \text{ odd})"
            ),
        ],
        "The rank-one part of the gradient comes from the mean of sigma'(w.x), which is "
        "mu_1(sigma) (Stein), the first Hermite coefficient of the activation, not of the "
        "target: it multiplies beta_hat = X^T y/n whatever the target. Its norm is the limit of "
        "the next step at mu_1(sigma*) = 0, m_2 + sigma_eps^2 = E[y^2]: positive, so the Taylor "
        "terms (mu_k/k!)(eta mu_1(sigma))^k (X beta_hat)^(o k) (a^(o k))^T have the strengths "
        "of an informative target with ||beta_hat|| in place, and the count l(alpha) restricted "
        "to mu_k(sigma) != 0 is unchanged. Direction: <beta_hat, beta*> = (1/n) sum_i "
        "(beta*.x_i) y_i -> E[Z sigma*(Z)] = mu_1(sigma*) = 0. When y depends on beta*.x only "
        "through |beta*.x| (He_2), reflecting x across the hyperplane orthogonal to beta* leaves "
        "the law of (X, y) unchanged and flips beta*.x: the signed overlap and, on fresh data, "
        "the correlation of He_k(X beta_hat) with He_k(X beta*) for odd k have mean exactly 0; "
        "for every k the correlation is rho^k with rho -> 0, so the spike directions are "
        "asymptotically independent of beta*. This replaces the statement 'no spike at all when "
        "mu_1(sigma*) = 0' that a summary attributed to Moniri et al. (2024).",
        "featcheck's derivation, in the setting of Moniri et al. (2024), arXiv 2310.07891",
    )


def _model_b_spectrum(doc: Derivation, activation: Function, beta, weight, scale) -> None:
    """Model B: the gradient's spike, the learned direction and the feature spikes."""
    doc.add(
        "Model B: the gradient is rank one plus a small part",
        sp.Symbol(
            r"D = \frac{1}{m}\big[(r\,(w/\sqrt{k})^\top)\odot\sigma'(X F^\top)\big]^\top X"
            r" = \mu_1(\sigma)\,\frac{w}{\sqrt k}\,\hat c^\top + \Delta,"
            r"\quad \hat c = X^\top r/m"
        ),
        "As in model A, with B's second layer w/sqrt(k), w ~ N(0, I/k): the rank-one part has "
        "norm |mu_1| ||w|| ||c_hat||/sqrt(k) ~ k^(-1/2), Delta ~ sqrt(log k)/k.",
    )
    doc.add(
        "Model B: the learned direction (zero-mean components)",
        [
            sp.Symbol(
                r"c^\star = \mathbb{E}[x y] = \sum_c \rho_c \Sigma_c \xi\,"
                r"\frac{\mathbb{E}[\sigma^\star(u_c) u_c]}{v_c},\quad u_c \sim N(0, v_c),"
                r"\ v_c = \xi^\top\Sigma_c\xi"
            ),
            sp.Symbol(
                r"\mathbb{E}\|\hat c\|^2 = \frac{\mathbb{E}[y^2\|x\|^2]}{m}"
                r" + \Big(1 - \frac1m\Big)\|c^\star\|^2,\quad"
                r"\langle \hat c/\|\hat c\|, c^\star/\|c^\star\|\rangle \to"
                r" \frac{\|c^\star\|}{\sqrt{\mathbb{E}\|\hat c\|^2}}"
            ),
            sp.Symbol(
                r"\mathbb{E}[y^2\|x\|^2 \mid c] = \mathbb{E}[y^2u_c^2]"
                r"\frac{\|\Sigma_c\xi\|^2}{v_c^2} + \mathbb{E}[y^2]\Big(\operatorname{tr}"
                r"\Sigma_c - \frac{\|\Sigma_c\xi\|^2}{v_c}\Big)"
            ),
        ],
        "Regress x on u = xi . x within a component: E[x | u] = Sigma_c xi u / v_c, and the "
        "residual is independent of u. With +-1 labels by component and zero means, c* = 0: the "
        "gradient learns no direction at first order. (r = y up to the initial output, whose "
        "variance is O(1/k).)",
    )
    doc.add(
        "Model B: spikes of the updated features, by mechanism",
        [
            sp.Symbol(
                r"\text{data spread, degree } j:\ e = \tfrac12 - \tfrac j2\,"
                r"(1 - \beta(1-\alpha))"
            ),
            sp.Symbol(r"\text{learning rate, degree } j:\ e = \tfrac12 - j\,(1 - \beta\alpha)"),
            sp.Symbol(
                r"\text{mixed } (i, j-i):\ e = \tfrac12 - \tfrac i2(1-\beta(1-\alpha))"
                r" - (j-i)(1-\beta\alpha) < 0 \text{ for } \beta < 1"
            ),
        ],
        "Each is a rank-one term whose norm over the bulk of sigma(X F_1^T)/sqrt(k) grows like "
        "n^e; it separates iff e > 0 and mu_j(sigma(b .)) != 0 (step terms also need "
        "mu_1 != 0). The data spread spike exists before the step. Spread terms: one per "
        "distinct spike direction (two for a two-component mixture unless the spikes are "
        "aligned), times the number of degree-j monomials for rank-r spikes. At alpha = 0 the "
        "spread condition is Theorem 4's beta > (j-1)/j; for alpha > 0 fewer degrees separate "
        "than L(beta), so L(beta) is sufficient, not necessary.",
    )
    prediction = predict_spikes_b(activation, beta, weight, directions=2, scale=scale)
    rows = [
        sp.Symbol(
            rf"\text{{{t.mechanism}, degree {t.degree}: }} e = {sp.latex(t.exponent)},"
            rf"\ \mu_{{{t.degree}}}\ \text{{{t.coefficient.status}}}"
            rf"\Rightarrow \text{{{'present' if t.present else 'absent'}}}"
            rf"\ (\times {t.multiplicity})"
        )
        for t in prediction.terms
    ]
    doc.add(
        f"Model B: predicted spikes at beta = {beta}, alpha = {weight} (two-component mixture)",
        [*rows, sp.Symbol(rf"\text{{count}} = {prediction.count}")]
        if rows
        else [sp.Symbol(r"\text{no term with } e \ge 0")],
        "Only terms with e >= 0 are listed; a term at e = 0 is undetermined by the scaling.",
    )
