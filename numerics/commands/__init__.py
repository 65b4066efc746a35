"""Subcommands of ``featcheck``; each module has ``register(subparsers)``."""
