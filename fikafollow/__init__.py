"""The composition root: configuration and the `fikafollow` command."""

__version__ = "0.1.0"
