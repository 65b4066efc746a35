"""The committee model as data: construction, validation and the TOML loader."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.numerics import strategies as fs
from featcheck.theory.committee.model import (
    TOML_KEYS,
    committee_model,
    link_variables,
    load_model,
    model_from_toml,
)
from featcheck.theory.errors import InputError

SAAD_SOLLA = """
[teacher]
activation = "erf(z/sqrt(2))"
width = 2
overlaps = [[1, 0], [0, 1]]
noise = 0.0

[student]
activation = "erf(z/sqrt(2))"
width = 2

[learner]
algorithm = "online-sgd"
learning_rate = 0.5

[initial]
Q = [[0.2, 0], [0, 0.2]]
M = [[2e-3, 1e-3], [1e-3, 1.5e-3]]
"""

STAIRCASE = """
[teacher]
link = "z1 + z1*z2"

[student]
activation = "erf(z/sqrt(2))"
width = 2
second_layer = ["1/2", "1/2"]
trained = true

[learner]
algorithm = "gradient-flow"

[initial]
Q = [[0.5, 0], [0, 0.5]]
M = [[0.01, 0], [0, 0.01]]
"""


def test_saad_solla_spec_is_read_exactly():
    model = model_from_toml(SAAD_SOLLA, "ss")
    z1, z2 = link_variables(2)
    g = sp.erf(z1 / sp.sqrt(2)) + sp.erf(z2 / sp.sqrt(2))
    assert sp.simplify(model.teacher.link - g) == 0
    assert model.learner.learning_rate == sp.Rational(1, 2)
    assert model.initial.M[0][0] == sp.Rational(1, 500)  # decimal text, not a binary float
    assert model.K == model.M == 2 and model.teacher.is_committee
    assert model.omega0[0][2] == sp.Rational(1, 500) and model.omega0[2][0] == sp.Rational(1, 500)


def test_link_spec_infers_the_width_and_reads_fractions():
    model = model_from_toml(STAIRCASE)
    assert model.M == 2 and not model.teacher.is_committee
    assert model.student.second_layer == (sp.Rational(1, 2), sp.Rational(1, 2))
    assert model.student.trained and model.learner.algorithm == "gradient-flow"
    assert model.learner.eta_second_layer == 1


def test_load_model_names_the_file(tmp_path):
    path = tmp_path / "saad-solla.toml"
    path.write_text(SAAD_SOLLA)
    assert load_model(path).name == "saad-solla"
    bad = tmp_path / "bad.toml"
    bad.write_text(SAAD_SOLLA.replace("width = 2\n\n[learner]", "widht = 2\n\n[learner]"))
    with pytest.raises(InputError, match=r"^bad.toml: \[student\] unknown key 'widht'"):
        load_model(bad)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "width = 2\n\n[learner]",
            "width = 0\n\n[learner]",
            r"\[student\] width must be at least 1",
        ),
        (
            "width = 2\n\n[learner]",
            'width = "2"\n\n[learner]',
            r"\[student\] width must be a whole",
        ),
        ("learning_rate = 0.5", "learning_rate = 0", r"learning_rate must be positive"),
        ("learning_rate = 0.5", "learning_rate = -0.5", r"learning_rate must be positive"),
        ("learning_rate = 0.5", "learning_rate = true", r"learning_rate must be a number"),
        ("Q = [[0.2, 0], [0, 0.2]]", "Q = [[0.2, 0], [0, -0.2]]", r"not positive semi-definite"),
        ("Q = [[0.2, 0], [0, 0.2]]", "Q = [[0.2, 0.1], [0, 0.2]]", r"Q must be symmetric"),
        ("M = [[2e-3, 1e-3], [1e-3, 1.5e-3]]", "M = [[0.5, 0], [0, 0]]", r"semi-definite"),
        ("M = [[2e-3, 1e-3], [1e-3, 1.5e-3]]", "M = [[1, 2, 3]]", r"M must be a 2 x 2"),
        ("overlaps = [[1, 0], [0, 1]]", "overlaps = [[1, 2], [2, 1]]", r"semi-definite"),
        ('algorithm = "online-sgd"', 'algorithm = "adam"', r"algorithm must be one of"),
        ("noise = 0.0", "noise = -1.0", r"noise must be non-negative"),
        ("noise = 0.0", "noise = 0.0\nnoize = 1", r"\[teacher\] unknown key 'noize'"),
        ('[student]\nactivation = "erf(z/sqrt(2))"', '[student]\nactivation = "nope"', "unknown"),
        ('[student]\nactivation = "erf(z/sqrt(2))"', '[student]\nactivation = "sign"', "jumps"),
        ("[initial]", "[inital]", r"unknown table or key 'inital'"),
        ("[learner]", "[data]\ncovariance = 'spiked'\n[learner]", r"needs kappa"),
        ("[learner]", "[data]\ncovariance = 'round'\n[learner]", r"covariance must be one of"),
        (
            'activation = "erf(z/sqrt(2))"\nwidth = 2\noverlaps',
            'link = "z1 + z3"\nwidth = 2\noverlaps',
            r"link uses z3 but the teacher has width 2",
        ),
        (
            'activation = "erf(z/sqrt(2))"\nwidth = 2\noverlaps',
            'link = "z1 + y"\nwidth = 2\noverlaps',
            r"unknown name 'y'",
        ),
        (
            'activation = "erf(z/sqrt(2))"\nwidth = 2\noverlaps',
            'link = "__import__"\nwidth = 2\noverlaps',
            r"double underscores",
        ),
    ],
)
def test_bad_input_is_one_input_error_line(old, new, message):
    with pytest.raises(InputError, match=message) as info:
        model_from_toml(_replace(SAAD_SOLLA, old, new))
    assert "\n" not in str(info.value)


def test_not_toml_is_an_input_error():
    with pytest.raises(InputError, match="not valid TOML"):
        model_from_toml("[teacher\nwidth = 2")


def test_every_documented_table_is_known():
    assert set(TOML_KEYS) == {"data", "teacher", "student", "learner", "initial"}


@st.composite
def gram_models(draw):
    """Overlaps of actual vectors (always admissible), and a perturbation that is not."""
    K = draw(st.integers(1, 3))
    M = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d = K + M + 2
    W = rng.standard_normal((K, d)) / np.sqrt(d)
    U = rng.standard_normal((M, d)) / np.sqrt(d)
    return W @ W.T, W @ U.T, U @ U.T


@given(gram_models())
def test_overlaps_of_actual_vectors_are_accepted_and_a_negative_direction_is_not(gram):
    Q, M, P = gram
    K = len(Q)
    model = committee_model(
        student_activation="erf(z/sqrt(2))",
        student_width=K,
        teacher_activation="erf(z/sqrt(2))",
        teacher_width=len(P),
        teacher_overlaps=P.tolist(),
        Q0=Q.tolist(),
        M0=M.tolist(),
        learning_rate=0.1,
    )
    omega = np.array([[float(v) for v in row] for row in model.omega0])
    assert np.linalg.eigvalsh(omega).min() > -1e-12
    # Shrinking Q along the top eigenvector of Omega's Q-block by more than the smallest
    # eigenvalue of the Schur complement makes [[Q, M], [M^T, P]] indefinite.
    schur = Q - M @ np.linalg.solve(P, M.T)
    values, vectors = np.linalg.eigh(schur)
    v = vectors[:, 0]
    bad_Q = Q - (values[0] + 0.05) * np.outer(v, v)
    with pytest.raises(InputError, match="semi-definite"):
        committee_model(
            student_activation="erf(z/sqrt(2))",
            student_width=K,
            teacher_activation="erf(z/sqrt(2))",
            teacher_width=len(P),
            teacher_overlaps=P.tolist(),
            Q0=bad_Q.tolist(),
            M0=M.tolist(),
        )


def test_python_constructor_rejects_both_or_neither_teacher_form():
    with pytest.raises(InputError, match="either activation"):
        committee_model(student_activation="relu", student_width=1, Q0=[[1]], M0=[[0]])
    with pytest.raises(InputError, match="either activation"):
        committee_model(
            student_activation="relu",
            student_width=1,
            teacher_activation="relu",
            teacher_width=1,
            link="z1",
            Q0=[[1]],
            M0=[[0]],
        )


@settings(max_examples=20, deadline=None)
@given(text=fs.multi_index_links(indices=3))
def test_drawn_multi_index_links_make_committee_models(text):
    """``featcheck.numerics.strategies.multi_index_links`` draws links a model accepts; the
    teacher has as many directions as the highest index used."""
    used = [i for i in (1, 2, 3) if f"z{i}" in text]
    M = max(used)
    model = committee_model(
        student_activation="relu", student_width=1, link=text, Q0=[[1]], M0=[[0.1] * M]
    )
    assert model.M == M and model.teacher.link != 0
