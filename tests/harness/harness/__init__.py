"""The compose test harness: a named stack brought up, waited for and removed (see README.md)."""

from harness.api import Api
from harness.stack import DATA_CSV, REPO_ROOT, CommandError, Stack, StackError

__all__ = ["DATA_CSV", "REPO_ROOT", "Api", "CommandError", "Stack", "StackError"]
