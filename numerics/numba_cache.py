"""Where numba keeps compiled kernels: the user's cache directory, never the package.

numba's default puts ``cache=True`` files beside the module, that is inside the
installed package, where they outlive an uninstall (and a leftover ``featcheck/``
directory in site-packages shadows a later editable install). Modules with cached
kernels call :func:`use_user_cache` before defining them. ``NUMBA_CACHE_DIR`` set by
the user is respected.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_directory() -> Path:
    """``$XDG_CACHE_HOME/featcheck/numba``, by default ``~/.cache/featcheck/numba``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "featcheck" / "numba"


def use_user_cache() -> None:
    """Point numba's cache at :func:`cache_directory` unless the user chose a directory."""
    from numba.core import config

    if not config.CACHE_DIR:
        config.CACHE_DIR = str(cache_directory())
