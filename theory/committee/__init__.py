"""Teacher-student committee machines: the model as data, its overlap ODEs and their analysis.

A two-layer student ``yhat = sum_k a_k phi(<w_k, x>)`` learns a teacher
``y = F(<u_1, x>, ..., <u_M, x>) + sigma eps`` (a committee ``F = sum_m a*_m g(z_m)`` or any
multi-index link) from Gaussian inputs, by online SGD or gradient flow on the square loss.

* :mod:`~featcheck.theory.committee.model`: the model (:class:`CommitteeModel`), its
  validation and the TOML loader;
* :mod:`~featcheck.theory.committee.local_fields`: the order parameters ``Q``, ``M``, ``P``
  and the joint Gaussian law of the local fields ``(lambda, nu)``;
* :mod:`~featcheck.theory.committee.expectations`: Gaussian expectations of the local fields,
  in closed form where one exists, each with its method and error bound;
* :mod:`~featcheck.theory.committee.overlap_ode`: the overlap ODEs and the generalisation
  error, derived symbolically;
* :mod:`~featcheck.theory.committee.plateaus`: fixed points in the symmetric subspace, their
  Jacobian eigenvalues and escape rates;
* :mod:`~featcheck.theory.committee.leap`: information and leap exponents of a multi-index
  link;
* :mod:`~featcheck.theory.committee.document`: the derivation document of a model.

The numerics (integration, simulators, fixed points) are in ``featcheck.numerics.committee``.
"""
