"""Numerics of linear networks under spherically symmetric data (Lin, Sun, Zhang 2021).

:mod:`~featcheck.numerics.linear.simulate` (data laws, flows in ``(rho, zeta)``, gradient
descent, SGD), :mod:`~featcheck.numerics.linear.bounds` (the bound checker and
:func:`~featcheck.numerics.linear.bounds.check_bound`),
:mod:`~featcheck.numerics.linear.trajectory` (:func:`~featcheck.numerics.linear.trajectory.
linear_flow`, the library form of ``featcheck linear``) and
:mod:`~featcheck.numerics.linear.figures` (Figure 1 and the figures of the claims).
"""
