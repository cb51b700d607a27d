"""Nothing read from Stash, Plex or the data directory is ever executed or unpickled, and no shell is used:
checked on the syntax tree of every module that ships (the plugin's runtime packages)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / "PlexSync.py", *sorted(p for room in ("hooks", "sync_queue", "worker", "plex", "validation")
                                          for p in (REPO / room).rglob("*.py"))]
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill"}


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if isinstance(node.func, ast.Name) and name in FORBIDDEN_CALLS:  # the builtins, not re.compile
                found.append(f"{path.name}:{node.lineno} calls {name}()")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    found.append(f"{path.name}:{node.lineno} passes shell={ast.unparse(keyword.value)}")
            if name in {"system", "popen"} and isinstance(node.func, ast.Attribute) and \
                    getattr(node.func.value, "id", "") == "os":
                found.append(f"{path.name}:{node.lineno} runs a shell through os.{name}()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
    return found


def test_the_scan_sees_what_it_forbids(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import pickle\nimport os\nimport subprocess\nsubprocess.run('x', shell=True)\n"
                      "os.system('x')\neval('1')\n", encoding="utf-8")
    assert len(_problems(sample)) == 4


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_code_never_evaluates_unpickles_or_uses_a_shell(path):
    assert _problems(path) == []
