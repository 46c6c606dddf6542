"""The command line and `fikafollow serve`, as a user runs them (many in subprocesses)."""
