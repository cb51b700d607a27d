"""Load a plugin's yml the way Stash does: strict (an unknown key fails the whole plugin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOP_LEVEL_KEYS = {"name", "description", "url", "version", "interface", "exec", "errLog", "tasks", "hooks", "ui",
                  "settings"}
OPERATION_KEYS = {"name", "description", "execArgs", "defaultArgs"}
HOOK_KEYS = OPERATION_KEYS | {"triggeredBy"}
SETTING_KEYS = {"displayName", "description", "type"}
SETTING_TYPES = {"STRING", "NUMBER", "BOOLEAN"}
# Stash's UIConfig (pkg/plugin/config.go): the page assets a plugin ships; strict like the rest.
UI_KEYS = {"requires", "javascript", "css", "csp", "interactive", "assets"}


class PluginYmlError(ValueError):
    """Stash would refuse to load this plugin ("Error loading plugin …")."""


@dataclass
class Operation:
    name: str
    default_args: dict[str, str] = field(default_factory=dict)
    exec_args: list[str] = field(default_factory=list)
    triggered_by: list[str] = field(default_factory=list)


@dataclass
class PluginYml:
    plugin_id: str
    name: str
    exec: list[str]
    interface: str
    err_log: str
    tasks: list[Operation]
    hooks: list[Operation]
    settings: dict[str, dict[str, str]]
    ui_javascript: list[str] = field(default_factory=list)
    ui_css: list[str] = field(default_factory=list)

    def task(self, name: str) -> Operation:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task with name {name!r}")  # Stash: "Error creating plugin task"

    def hook_for(self, trigger: str) -> Operation:
        for hook in self.hooks:
            if trigger in hook.triggered_by:
                return hook
        raise KeyError(f"no hook is triggered by {trigger!r}")


def _check_keys(where: str, mapping: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(mapping, dict):
        raise PluginYmlError(f"{where}: expected a mapping")
    unknown = set(mapping) - allowed
    if unknown:
        raise PluginYmlError(f"{where}: unknown field(s) {sorted(unknown)}")
    return mapping


def _operation(where: str, raw: Any, allowed: set[str]) -> Operation:
    data = _check_keys(where, raw, allowed)
    args = data.get("defaultArgs") or {}
    if not all(isinstance(v, str) for v in args.values()):
        raise PluginYmlError(f"{where}: defaultArgs values must be strings")
    return Operation(str(data.get("name", "")), dict(args), [str(a) for a in data.get("execArgs") or []],
                     [str(t) for t in data.get("triggeredBy") or []])


def parse_plugin_yml(text: str, plugin_id: str) -> PluginYml:
    import yaml

    data = _check_keys("plugin", yaml.safe_load(text), TOP_LEVEL_KEYS)
    settings = {}
    for key, setting in (data.get("settings") or {}).items():
        checked = _check_keys(f"settings.{key}", setting, SETTING_KEYS)
        if checked.get("type", "STRING") not in SETTING_TYPES:
            raise PluginYmlError(f"settings.{key}: type must be one of {sorted(SETTING_TYPES)}")
        settings[key] = checked
    ui = _check_keys("ui", data.get("ui") or {}, UI_KEYS)
    return PluginYml(
        plugin_id=plugin_id,
        name=str(data.get("name", plugin_id)),
        exec=[str(part) for part in data.get("exec") or []],
        interface=str(data.get("interface", "raw")),
        err_log=str(data.get("errLog", "error")),
        tasks=[_operation(f"tasks[{n}]", raw, OPERATION_KEYS) for n, raw in enumerate(data.get("tasks") or [])],
        hooks=[_operation(f"hooks[{n}]", raw, HOOK_KEYS) for n, raw in enumerate(data.get("hooks") or [])],
        settings=settings,
        ui_javascript=[str(path) for path in ui.get("javascript") or []],
        ui_css=[str(path) for path in ui.get("css") or []],
    )


def load_plugin_yml(plugin_dir: Path) -> PluginYml:
    """The plugin in ``plugin_dir``; its id is the yml's file name, as in Stash."""
    candidates = [p for p in sorted(plugin_dir.glob("*.yml")) if p.stem not in ("mkdocs",)]
    if not candidates:
        raise PluginYmlError(f"no plugin yml in {plugin_dir}")
    path = candidates[0]
    return parse_plugin_yml(path.read_text(encoding="utf-8"), path.stem)
