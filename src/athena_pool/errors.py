"""Errors shared by several parts."""


class UsageError(Exception):
    """Bad input from an operator on the command line: one line on stderr, exit code 2."""
