"""Tests of validation/: settings, metadata models, sanitizers, the log wire, the clock rule, installing packages."""
