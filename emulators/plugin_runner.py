"""Run a raw plugin exactly as Stash does (stash-protocol.md §1–§3, §7.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from emulators.plugin_yml import PluginYml, load_plugin_yml

LEVELS = {"t": "trace", "d": "debug", "i": "info", "w": "warning", "e": "error"}
MAX_STASH_LINE = 64 * 1024


@dataclass
class RunResult:
    output: Any
    error: str | None
    stdout_raw: bytes
    stderr_raw: bytes
    exit_code: int
    elapsed_s: float
    logs: list[tuple[str, str]] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)
    protocol_errors: list[str] = field(default_factory=list)


def parse_stdout(raw: bytes, exit_code: int) -> tuple[Any, str | None]:
    """Stash: exactly one JSON object → its output/error; anything else → the whole text as output."""
    output: Any
    error: str | None = None
    try:
        decoded = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        decoded = None
    if isinstance(decoded, dict):
        output, error = decoded.get("output"), decoded.get("error")
    else:
        output = raw.decode("utf-8", "replace")
    if exit_code != 0 and error is None:
        error = f"exit status {exit_code}"
    return output, error


def parse_stderr(raw: bytes, err_log: str = "error") -> tuple[list[tuple[str, str]], list[float], list[str]]:
    """stderr split into leveled log lines (``\\x01<level>\\x02``) and progress, and what Stash would choke on."""
    logs, progress, problems = [], [], []
    for line in raw.split(b"\n"):
        line = line.rstrip(b"\r")
        if len(line) >= MAX_STASH_LINE:
            problems.append(f"stderr line of {len(line)} bytes would stop Stash's log reader")
        if not line.strip():
            continue
        if len(line) >= 4 and line[0] == 1 and line[2] == 2:
            level, text = chr(line[1]), line[3:].decode("utf-8", "replace").strip()
            if level == "p":
                try:
                    progress.append(float(text))
                except ValueError:
                    problems.append(f"bad progress value {text!r}")
            elif level in LEVELS:
                logs.append((LEVELS[level], text))
            else:
                logs.append((err_log, text))
        else:
            problems.append(f"unprefixed stderr line: {line[:120]!r}")
            if err_log != "none":
                logs.append((err_log, line.decode("utf-8", "replace").strip()))
    return logs, progress, problems


class RunningPlugin:
    def __init__(self, process: subprocess.Popen, started_mono_s: float, err_log: str) -> None:
        self.process = process
        self.pid = process.pid
        self._started_mono_s = started_mono_s
        self._err_log = err_log
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._readers = [threading.Thread(target=self._drain, args=(process.stdout, self._stdout), daemon=True),
                         threading.Thread(target=self._drain, args=(process.stderr, self._stderr), daemon=True)]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(stream: Any, sink: bytearray) -> None:
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.extend(chunk)

    def kill(self) -> None:
        """What Stash's Cancel does: SIGKILL the direct child, nothing else."""
        self.process.kill()

    def wait(self, timeout: float | None = None) -> RunResult:
        """stdout read to EOF (a grandchild holding it keeps the run waiting, as in Stash), then parsed Stash's way."""
        deadline_mono_s = None if timeout is None else time.monotonic() + timeout
        for reader in self._readers:  # Stash reads stdout to EOF before it waits for the process
            reader.join(None if deadline_mono_s is None else max(0.0, deadline_mono_s - time.monotonic()))
            if reader.is_alive():
                raise TimeoutError("the plugin's stdout/stderr stayed open (a child may be holding them)")
        exit_code = self.process.wait(None if deadline_mono_s is None else max(0.1, deadline_mono_s - time.monotonic()))
        elapsed_s = time.monotonic() - self._started_mono_s
        output, error = parse_stdout(bytes(self._stdout), exit_code)
        logs, progress, problems = parse_stderr(bytes(self._stderr), self._err_log)
        return RunResult(output, error, bytes(self._stdout), bytes(self._stderr), exit_code, elapsed_s, logs, progress,
                         problems)


class PluginRunner:
    def __init__(self, plugin_dir: str | Path, server_connection: Mapping[str, Any], python: str | None = None,
                 env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> None:
        self.plugin_dir = Path(plugin_dir).resolve()
        self.yml: PluginYml = load_plugin_yml(self.plugin_dir)
        self.server_connection = dict(server_connection)
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else None
        self.cwd = Path(cwd) if cwd else Path(tempfile.gettempdir())

    def argv(self, exec_args: list[str] | None = None) -> list[str]:
        """The yml's ``exec``, ``python``/``python3`` swapped for the configured interpreter, ``{pluginDir}``
        replaced."""
        command = [part.replace("{pluginDir}", str(self.plugin_dir)) if n else part
                   for n, part in enumerate(self.yml.exec + (exec_args or []))]
        if command[0] in ("python", "python3"):
            command[0] = self.python
        return command

    def environment(self) -> dict[str, str]:
        """PYTHONPATH plus the plugin folder's parent (Stash pkg/plugin/raw.go
        ``filepath.Dir(filepath.Dir(plugin.path))``, pkg/python/env.go ``AppendPythonPath``)."""
        env = dict(os.environ if self.env is None else self.env)
        extra = str(self.plugin_dir.parent)
        env["PYTHONPATH"] = f"{env['PYTHONPATH']}{os.pathsep}{extra}" if env.get("PYTHONPATH") else extra
        return env

    @staticmethod
    def hook_context(trigger: str, object_id: int, input: Any = None, input_fields: list[str] | None = None) -> dict:
        context: dict[str, Any] = {"id": int(object_id), "type": trigger, "input": input}
        if input_fields:
            context["inputFields"] = list(input_fields)
        return context

    def start(self, args: Mapping[str, Any], exec_args: list[str] | None = None) -> RunningPlugin:
        payload = json.dumps({"server_connection": self.server_connection, "args": dict(args)}).encode("utf-8")
        return self.start_raw(payload, exec_args)

    def start_raw(self, stdin: bytes, exec_args: list[str] | None = None) -> RunningPlugin:
        """Start the plugin in a cwd that is not its folder, write ``stdin`` (one JSON object, no newline) and
        close it."""
        self.cwd.mkdir(parents=True, exist_ok=True)
        started_mono_s = time.monotonic()
        process = subprocess.Popen(self.argv(exec_args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, cwd=str(self.cwd), env=self.environment())
        assert process.stdin is not None
        try:
            process.stdin.write(stdin)  # no trailing newline, then closed: like Stash's writer goroutine
            process.stdin.close()
        except BrokenPipeError:
            pass
        return RunningPlugin(process, started_mono_s, self.yml.err_log)

    def run_hook(self, trigger: str, object_id: int, input: Any = None, input_fields: list[str] | None = None,
                 timeout: float = 60) -> RunResult:
        hook = self.yml.hook_for(trigger)
        args = {**hook.default_args, "hookContext": self.hook_context(trigger, object_id, input, input_fields)}
        return self.start(args, hook.exec_args).wait(timeout)

    def start_task(self, task_name: str, args_map: Mapping[str, Any] | None = None) -> RunningPlugin:
        task = self.yml.task(task_name)
        return self.start({**task.default_args, **(args_map or {})}, task.exec_args)

    def run_task(self, task_name: str, args_map: Mapping[str, Any] | None = None, timeout: float = 300) -> RunResult:
        return self.start_task(task_name, args_map).wait(timeout)

    def run_raw(self, stdin: bytes, timeout: float = 60) -> RunResult:
        return self.start_raw(stdin).wait(timeout)
