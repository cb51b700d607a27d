"""Tests of worker/: breaker, backoff and lease, budgets, the command line, the Stash reader, tasks and pages."""
