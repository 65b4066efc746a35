"""The derivation document of a committee model (``featcheck derive ode SPEC.toml``).

It is the overlap-ODE derivation of :func:`~featcheck.theory.committee.overlap_ode.derive_ode`
followed by the symmetric subspace and the escape from a plateau, the teacher fixed point
(checked at 30 digits), and the information and leap exponents of the teacher's link.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from featcheck.theory.committee.expectations import GaussianIntegral
from featcheck.theory.committee.leap import link_exponents
from featcheck.theory.committee.model import CommitteeModel
from featcheck.theory.committee.overlap_ode import SAAD_SOLLA, derive_ode
from featcheck.theory.committee.plateaus import symmetric_subspace, teacher_state
from featcheck.theory.derivation import Derivation

ABBE = "Abbe, Boix-Adsera, Misiakiewicz, COLT 2023 (arXiv 2302.11055)"
EXPONENT_DEGREE = 6


def derivation_document(model: CommitteeModel) -> Derivation:
    """The full derivation document of ``model`` (deterministic: no random checks)."""
    ode = derive_ode(model)
    base = ode.derivation
    document = Derivation(base.title, base.summary, list(base.steps))
    subspace = symmetric_subspace(ode)
    if subspace is not None:
        ansatz = [r"Q_{kk} = q", r"M_{km} = r"]
        if model.K > 1:
            ansatz.insert(1, r"Q_{kl} = c \quad (k \ne l)")
        if model.student.trained:
            ansatz.append(r"a_k = a")
        reduced = [
            sp.Eq(sp.Derivative(v, sp.Symbol("t")), sp.Symbol(rf"f_{{{sp.latex(v)}}}"))
            for v in subspace.variables
        ]
        document.add(
            "The symmetric subspace",
            ansatz + reduced,
            "The teacher's units are interchangeable (equal diagonal and equal off-diagonal "
            "entries of P, equal a*) and so are the student's (equal a): the equations commute "
            "with permutations of either, so this subspace is invariant. f_q, f_c, f_r are the "
            "right-hand sides of Q_11, Q_12, M_11 on it. Its fixed points are the symmetric "
            "(unspecialised) fixed points; 'featcheck ode' finds them numerically and reports the "
            "eigenvalues of the full Jacobian there.",
            SAAD_SOLLA,
        )
        lam, t, delta, big = sp.symbols(r"\lambda t \delta \Delta", positive=True)
        document.add(
            "Escape from a plateau",
            [
                sp.Eq(sp.Symbol(r"\delta(t)"), sp.Symbol(r"\delta(0)") * sp.exp(lam * t)),
                sp.Eq(sp.Symbol(r"t_{\mathrm{escape}}"), sp.log(big / delta) / lam),
            ],
            "Near an unstable symmetric fixed point the deviation from it grows like "
            "exp(lambda t), lambda the largest eigenvalue of the Jacobian there (a direction "
            "that breaks the symmetry). From a deviation delta the trajectory leaves a "
            "neighbourhood of size Delta after (1/lambda) log(Delta/delta): the plateau "
            "lengthens by 1/lambda for each factor e of symmetry in the initial condition.",
        )
    teacher = teacher_state(ode)
    if teacher is not None:
        residual = _residual(ode, teacher)
        if residual is not None:
            document.add(
                "The teacher is a fixed point",
                [
                    r"Q = M = P"
                    + (r",\quad S = T" if model.data.spiked else "")
                    + (r",\quad a = a^*" if model.student.trained else "")
                ],
                "With K = M, the student's activation equal to the teacher's, a = a* and no "
                "label noise, delta_k = 0 on the teacher, so every right-hand side vanishes "
                f"and eps_g = 0 there. Checked: the largest |rhs| at Q = M = P is "
                f"{residual} at 30 digits.",
            )
    exponents = link_exponents(model.teacher.link, model.M, max_degree=EXPONENT_DEGREE)
    rows = [
        r"\text{support: }"
        + ",\\ ".join(
            r"f_{(" + ",".join(map(str, alpha)) + ")} = " + sp.latex(_short(value))
            for alpha, value in sorted(
                exponents.coefficients.items(), key=lambda item: (sum(item[0]), item[0])
            )
            if sum(alpha) >= 1
        )
    ]
    if exponents.leap is not None:
        rows.append(
            rf"\text{{information exponent}} = {exponents.information_exponent},\quad"
            rf"\text{{leap}} = {exponents.leap}"
        )
    document.add(
        "Exponents of the teacher's link",
        rows,
        "F = sum_alpha f_alpha He_alpha(z), He_alpha = prod_j He_(alpha_j)(z_j), in the "
        "coordinates z_1, ..., z_M as written"
        + (
            f", degrees up to {exponents.max_degree}"
            if exponents.max_degree is not None
            else " (exact: the link is a polynomial)"
        )
        + f". {exponents.describe()}. Read with the leap analysis of {ABBE}: online SGD from "
        "a random start needs about d^max(L-1, 1) samples (up to logarithmic factors).",
        ABBE,
    )
    return document


def _short(value: sp.Expr) -> sp.Expr:
    return sp.Float(value, 8) if value.is_Float else value


def _residual(ode, teacher) -> str | None:
    """``max |rhs|`` at the teacher state, at 30 digits (None if a term is numeric only)."""
    rhs = ode.system.rhs
    if any(r.has(GaussianIntegral) for r in rhs):
        return None
    values = dict(zip(ode.system.state, teacher, strict=True))
    values |= {p: sp.nsimplify(ode.parameter_values[str(p)]) for p in ode.system.parameters}
    with mpmath.workdps(30):
        largest = max(abs(sp.N(r.xreplace(values), 30)) for r in rhs)
    return "0" if largest == 0 else f"{float(largest):.1e}"
