"""The plugin runner behaves like Stash: strict yml, argv/cwd/env/stdin rules, stdout and stderr parsing."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from emulators.plugin_runner import PluginRunner, parse_stderr, parse_stdout
from emulators.plugin_yml import PluginYmlError, load_plugin_yml, parse_plugin_yml

REPO = Path(__file__).resolve().parents[2]
PROBE = textwrap.dedent("""
    import json, os, sys
    raw = sys.stdin.buffer.read()
    mode = json.loads(raw)["args"].get("mode")
    if mode == "grandchild":
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])  # inherits stdout
    if mode == "detached":
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    sys.stderr.write("\\x01i\\x02hello\\nplain line\\n\\x01p\\x020.5\\n")
    print(json.dumps({"output": {"newline_at_end": raw.endswith(b"\\n"), "cwd": os.getcwd(),
                                 "pythonpath": os.environ.get("PYTHONPATH", "")}, "error": None}))
""")
YML = textwrap.dedent("""
    name: Probe
    exec: [python3, "{pluginDir}/probe.py"]
    interface: raw
    tasks:
      - name: Plain
        defaultArgs: {mode: plain}
      - name: Grandchild
        defaultArgs: {mode: grandchild}
      - name: Detached
        defaultArgs: {mode: detached}
""")


@pytest.fixture()
def probe(tmp_path) -> PluginRunner:
    plugin = tmp_path / "plugins" / "Probe"
    plugin.mkdir(parents=True)
    (plugin / "Probe.yml").write_text(YML, encoding="utf-8")
    (plugin / "probe.py").write_text(PROBE, encoding="utf-8")
    return PluginRunner(plugin, {"Dir": str(tmp_path)}, cwd=tmp_path / "stash-cwd")


def test_stdin_cwd_and_pythonpath_as_stash_sets_them(probe):
    result = probe.run_task("Plain")
    assert result.error is None and result.output["newline_at_end"] is False
    assert Path(result.output["cwd"]).name == "stash-cwd"
    assert result.output["pythonpath"].endswith(str(probe.plugin_dir.parent))
    assert ("info", "hello") in result.logs and ("error", "plain line") in result.logs  # errLog default: error
    assert result.progress == [0.5] and result.protocol_errors  # the unprefixed line is flagged


def test_a_grandchild_holding_stdout_keeps_the_run_waiting(probe):
    assert probe.run_task("Grandchild").elapsed_s >= 1.2
    assert probe.run_task("Detached").elapsed_s < 1.2


def test_stdout_is_parsed_the_way_stash_parses_it():
    assert parse_stdout(b'{"output": 1, "error": null}\n', 0) == (1, None)
    assert parse_stdout(b"ok", 0) == ("ok", None)
    assert parse_stdout(b'{"output": 1}{"output": 2}', 0)[0] == '{"output": 1}{"output": 2}'
    assert parse_stdout(b"", 3) == ("", "exit status 3")


def test_stderr_long_lines_and_bad_progress_are_protocol_errors():
    _, _, problems = parse_stderr(b"\x01i\x02" + b"x" * 70_000 + b"\n\x01p\x02nan-ish\n")
    assert any("64" in p or "would stop" in p for p in problems) and any("progress" in p for p in problems)


@pytest.mark.parametrize("bad", ["timeout: 5\n", "settings:\n  x:\n    type: STRING\n    default: a\n"])
def test_strict_yml_rejects_unknown_keys(bad):
    with pytest.raises(PluginYmlError):
        parse_plugin_yml("name: P\nexec: [python3, x.py]\n" + bad, "P")


def test_plexsync_yml_loads_strictly_and_every_task_has_a_mode():
    plugin = load_plugin_yml(REPO)
    assert plugin.plugin_id == "PlexSync" and plugin.exec == ["python3", "{pluginDir}/PlexSync.py"]
    assert plugin.interface == "raw" and all(task.default_args.get("mode") for task in plugin.tasks)
    triggers = {trigger for hook in plugin.hooks for trigger in hook.triggered_by}
    assert triggers == {"Scene.Create.Post", "Scene.Update.Post", "Scene.Destroy.Post", "Performer.Update.Post",
                        "Studio.Update.Post", "Tag.Update.Post", "Tag.Merge.Post", "Group.Update.Post"}


def test_kill_is_sigkill_of_the_direct_child(probe, tmp_path):
    (probe.plugin_dir / "probe.py").write_text("import time, sys\nsys.stdin.read()\ntime.sleep(30)\n")
    running = probe.start_task("Plain")
    running.kill()
    result = running.wait(timeout=10)
    assert result.exit_code in (-9, 1) and result.elapsed_s < 10
    assert sys.platform == "win32" or result.exit_code == -9
