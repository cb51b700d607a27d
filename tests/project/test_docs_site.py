"""The docs a user reads: troubleshoot.md explains every error class and defines every glossary term,
reliability.md cites test files that exist, and the site builds with warnings as errors.

``mkdocs build --strict -q`` (README's CI command) does not fail on warnings: ``-q`` hides them from the
counter that ``--strict`` checks. So the strict build runs here, without ``-q``."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tools.make_release import RUNTIME_PACKAGES

REPO = Path(__file__).resolve().parents[2]
EXCEPTION_ROOTS = {"Exception", "ValueError", "RuntimeError", "OSError", "LookupError"}
GLOSSARY = ("Dead letter", "Circuit", "Pause", "Settle window", "Fan-out", "Link")


def runtime_trees() -> list[ast.Module]:
    files = [REPO / "PlexSync.py"] + [path for package in RUNTIME_PACKAGES for path in (REPO / package).rglob("*.py")]
    return [ast.parse(path.read_text(encoding="utf-8")) for path in files]


def exception_classes(trees: list[ast.Module]) -> set[str]:
    """Every class in the shipped code that derives (within it) from a built-in exception."""
    bases = {node.name: {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
             for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    found: set[str] = set()
    while True:
        more = {name for name, parents in bases.items() if parents & (EXCEPTION_ROOTS | found)} - found
        if not more:
            return found
        found |= more


def recorded_error_classes(trees: list[ast.Module]) -> set[str]:
    """Literal ``error_class`` values the store records (keyword arguments and parameter defaults)."""
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "error_class" and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
            if isinstance(node, ast.arguments):
                positional = node.args[len(node.args) - len(node.defaults):]
                pairs = list(zip(positional, node.defaults)) + list(zip(node.kwonlyargs, node.kw_defaults))
                found |= {default.value for arg, default in pairs
                          if arg.arg == "error_class" and isinstance(default, ast.Constant)}
    return found


def troubleshoot() -> str:
    return (REPO / "docs" / "troubleshoot.md").read_text(encoding="utf-8")


def test_the_scan_finds_the_classes_it_must():
    trees = runtime_trees()
    assert {"PlexSyncError", "PlexAuthError", "StashUnavailable", "ConfigError", "HookError"} <= exception_classes(trees)
    assert {"SceneGone", "Skipped", "ItemNotInPlex", "AmbiguousMatch"} <= recorded_error_classes(trees)


def test_every_error_class_in_the_code_is_explained_in_troubleshoot():
    trees = runtime_trees()
    named = exception_classes(trees) | recorded_error_classes(trees) | {"ModuleNotFoundError"}
    text = troubleshoot()
    missing = sorted(name for name in named if f"`{name}`" not in text)
    assert not missing, f"add these to docs/troubleshoot.md (cause and fix): {missing}"


def test_the_glossary_defines_every_term():
    headings = set(re.findall(r"^### (.+)$", troubleshoot().split("## Glossary", 1)[1], flags=re.MULTILINE))
    assert set(GLOSSARY) <= headings


def test_reliability_cites_test_files_that_exist():
    cited = set(re.findall(r"`(tests/[\w/]+\.py)`", (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")))
    assert len(cited) > 10
    assert not [path for path in cited if not (REPO / path).is_file()]


def test_the_docs_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
