"""Tests of the project as a whole: docs and code agree, the release zip, the import rules between rooms."""
