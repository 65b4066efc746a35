"""``python -m featcheck``: the same as the ``featcheck`` command."""

from featcheck.numerics.cli import main

raise SystemExit(main())
