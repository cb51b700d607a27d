"""Hostile and odd input at the plugin's entry (property-based): stdin, hook contexts, task arguments, settings.

Whatever Stash (or a broken Stash, or a person) sends, a run prints exactly one strict JSON object, exits 0,
writes only prefixed lines on stderr, and a valid scene hook's event always reaches the store. Most examples
call ``PlexSync.run_plugin`` in-process (what the subprocess runs, minus the interpreter start); a few real
subprocess runs prove the wire.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import PlexSync
from emulators import demo_library as lib
from emulators.plugin_runner import PluginRunner, parse_stderr
from sync_queue.location import DATA_DIR_ENV
from sync_queue.schema import KV_SETTINGS_CACHE
from sync_queue.store import Store
from tests.e2e.conftest import REPO
from validation.config import PlexSyncConfig
from validation.settings.names import label

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CLOSED_PORT = 9  # discard: nothing listens, so no example can reach a real service

json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63 - 5, max_value=10**40)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
                | st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1", "0", "1.5", "12abc",
                                   "²", "١٢", " 7 ", "0x10", "true", "null", "9" * 40]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def offline_connection(stash_dir: Path) -> dict[str, Any]:
    return {"Scheme": "http", "Host": "127.0.0.1", "Port": CLOSED_PORT, "Dir": str(stash_dir),
            "PluginDir": str(REPO)}


def assert_contract(result: dict[str, Any], stderr: str) -> dict[str, Any]:
    """What Stash needs from every run: one strict JSON object with output/error, only prefixed stderr lines."""
    text = json.dumps(result, default=str, allow_nan=False)  # what run_plugin returns must be strict JSON as it is
    decoded = json.loads(text)
    assert isinstance(decoded, dict) and set(decoded) == {"output", "error"}, decoded
    assert decoded["error"] is None or isinstance(decoded["error"], str)
    assert "Traceback" not in text
    problems = parse_stderr(stderr.encode("utf-8"))[2]
    assert problems == [], problems
    return decoded


def _reject_constant(name: str) -> Any:  # Python's json reads NaN/Infinity; Stash does not
    raise AssertionError(f"stdout holds {name}, which Go's JSON decoder (Stash) rejects")


def run_in_process(raw: bytes) -> dict[str, Any]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        result = PlexSync.run_plugin(raw)
    return assert_contract(result, stderr.getvalue())


@pytest.fixture()
def offline(tmp_path, monkeypatch):
    """A data dir whose cached settings say "off", so no hook starts a detached worker, and no Stash at all."""
    data_dir = tmp_path / "stash" / "plugin_data" / "PlexSync"
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))  # a random server_connection.Dir must not pick the folder
    connection = offline_connection(tmp_path / "stash")

    def switch_off() -> None:
        with Store(data_dir) as store:
            store.set_json(KV_SETTINGS_CACHE, {"enabled": False, "settle_seconds": 0, "read_at": time.time()})

    switch_off()
    return data_dir, connection, switch_off


@FUZZ
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode("utf-8")))
def test_any_stdin_gives_one_json_object(offline, raw):
    run_in_process(raw)


TASK_MODES = ["status", "purge_dlq", "clear_dlq", "retry_dlq", "clear_queue", "ui", "", " status ", "Status"]
# Every page operation but sync_scene, which starts a worker.
UI_OPS = ["overview", "scene", "retry_failed", "clear_dead_letters", "last_preview"]


@FUZZ
@given(mode=st.sampled_from(TASK_MODES) | json_values, op=st.sampled_from(UI_OPS) | json_values,
       days=json_values, scene_id=json_values, extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_task_arguments_of_any_type_give_one_json_object(offline, mode, op, days, scene_id, extra):
    _, connection, switch_off = offline
    switch_off()
    args = {**extra, "mode": mode, "op": op, "days": days, "scene_id": scene_id}
    decoded = run_in_process(json.dumps({"args": args, "server_connection": connection}).encode("utf-8"))
    if mode == "purge_dlq" and decoded["error"] is not None:
        assert "days" in decoded["error"], decoded["error"]


@FUZZ
@given(hook=json_values | st.fixed_dictionaries({"type": json_values, "id": json_values}, optional={
    "input": json_values, "inputFields": json_values}))
def test_any_hook_context_gives_one_json_object(offline, hook):
    _, connection, switch_off = offline
    switch_off()
    run_in_process(json.dumps({"args": {"hookContext": hook}, "server_connection": connection}).encode("utf-8"))


scene_ids = st.integers(min_value=1, max_value=2**63 - 1)


@FUZZ
@given(scene_id=scene_ids, trigger=st.sampled_from(["Scene.Create.Post", "Scene.Update.Post"]),
       as_text=st.booleans(), pad=st.sampled_from(["", " ", "\t", "\n"]), hook_input=json_values,
       input_fields=json_values, extra_args=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_a_valid_scene_hook_always_lands_in_the_store(offline, scene_id, trigger, as_text, pad, hook_input,
                                                      input_fields, extra_args):
    """Whatever rides along (Stash's input, inputFields, unknown args), the scene's event is kept; and the
    queue can read it back afterwards (an id the store cannot hold would poison every later run)."""
    data_dir, connection, switch_off = offline
    switch_off()
    raw_id: Any = f"{pad}{scene_id}{pad}" if as_text else scene_id
    hook = {"type": trigger, "id": raw_id, "input": hook_input, "inputFields": input_fields}
    args = {**extra_args, "hookContext": hook}
    decoded = run_in_process(json.dumps({"args": args, "server_connection": connection}).encode("utf-8"))
    assert decoded["error"] is None, decoded["error"]
    assert decoded["output"]["id"] == str(scene_id)
    with Store(data_dir) as store:
        assert scene_id in store.unabsorbed_scene_ids()
        store.absorb_intake(0)
        assert scene_id in store.pending_scene_ids()


@pytest.mark.parametrize("raw_id", [10**19, str(2**63), "9" * 40, "²", "١٢"])
def test_an_object_id_sqlite_cannot_hold_or_not_ascii_digits_is_refused_and_poisons_nothing(offline, raw_id):
    """Before: 10**19 was queued, then every status task and every worker failed with an OverflowError."""
    data_dir, connection, _ = offline
    hook = {"type": "Scene.Update.Post", "id": raw_id}
    decoded = run_in_process(json.dumps({"args": {"hookContext": hook}, "server_connection": connection}).encode())
    assert decoded["output"] is None and "numeric object id" in decoded["error"], decoded
    status = run_in_process(json.dumps({"args": {"mode": "status"}, "server_connection": connection}).encode())
    assert status["error"] is None and status["output"]["pending"] == 0, status


@pytest.mark.parametrize("days", ["nan", "NaN", "inf", "-inf", "1e400", "9" * 400, -1])
def test_purge_days_that_are_not_a_finite_number_are_refused_in_words(offline, days):
    """Before: days "nan" answered {"older_than_days": NaN}, which is not JSON: Stash lost the whole result."""
    _, connection, _ = offline
    decoded = run_in_process(json.dumps({"args": {"mode": "purge_dlq", "days": days},
                                         "server_connection": connection}).encode())
    assert decoded["output"] is None and "'days'" in decoded["error"], decoded


def test_stdout_is_strict_json_even_for_an_output_json_cannot_hold():
    text = PlexSync.stdout_text({"output": {"x": float("nan")}, "error": None})
    decoded = json.loads(text, parse_constant=_reject_constant)
    assert decoded["output"] is None and "JSON" in decoded["error"]


# -- settings: every key of the model, any JSON type -----------------------------------------------

SETTING_KEYS = sorted(PlexSyncConfig.model_fields)
setting_values = json_values | st.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "1_000", " 5 ", "5s", "",
                                                 None, {}, [], {"a": {"b": 1}}, 10**30, -(10**30)])


@pytest.fixture()
def settings_world(stash, plex, tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    connection = stash.server_connection(data_dir=str(tmp_path / "stash"), plugin_dir=str(REPO))
    return stash, plex, connection


@FEW
@given(key=st.sampled_from(SETTING_KEYS), value=setting_values)
def test_any_settings_value_gives_one_json_object_and_names_the_setting(settings_world, key, value):
    """A health run reads and validates the settings from Stash: a bad value is an error naming the setting."""
    stash, plex, connection = settings_world
    stash.set_plugin_settings("PlexSync", {**lib.plugin_settings(plex.url), key: value})
    decoded = run_in_process(json.dumps({"args": {"mode": "health"}, "server_connection": connection}).encode())
    if decoded["error"] is not None and "settings need attention" in decoded["error"]:
        named = key in decoded["error"] or label(key) in decoded["error"]  # the page's label, a tunable's key
        assert named or key in ("plex_url", "plex_token"), decoded["error"]
    assert lib.PLEX_TOKEN not in json.dumps(decoded)


# -- the wire: a few real subprocess runs ------------------------------------------------------------

WIRE_INPUTS = [
    b"",
    b"\xff\xfe\x00garbage",
    b"[1, 2, 3]",
    b'{"args": {"mode": "purge_dlq", "days": "nan"}}',
    b'{"args": {"hookContext": {"type": "Scene.Update.Post", "id": 100000000000000000000}}}',
    b'{"args": {"mode": "status", "days": ' + b"9" * 5000 + b"}}",  # Python refuses > 4300 digits
]


@pytest.mark.e2e
@pytest.mark.parametrize("raw", WIRE_INPUTS, ids=range(len(WIRE_INPUTS)))
def test_hostile_stdin_through_the_real_subprocess(stash, tmp_path, raw):
    runner = PluginRunner(REPO, stash.server_connection(data_dir=str(tmp_path / "stash"), plugin_dir=str(REPO)))
    payload = json.loads(raw) if raw.startswith(b'{"args": {"mode": "purge') or b"hookContext" in raw else None
    if payload is not None:  # as Stash sends it: with its server_connection
        payload["server_connection"] = runner.server_connection
        raw = json.dumps(payload).encode()
    result = runner.run_raw(raw)
    assert result.exit_code == 0 and result.protocol_errors == [], result.protocol_errors
    decoded = json.loads(result.stdout_raw, parse_constant=_reject_constant)
    assert set(decoded) == {"output", "error"} and isinstance(decoded["error"], str), decoded
    assert b"Traceback" not in result.stdout_raw


@pytest.mark.e2e
def test_a_scene_hook_with_hostile_riders_lands_through_the_real_subprocess(harness):
    harness.settings(settle_seconds=3600)  # intake only: the event must be there, not synced away
    rider = {"id": "5", "title": "\U0001F468\u200D\U0001F469 東京\x00\u202e", "rating100": float(10**308),
             "tag_ids": {"ids": ["1"] * 500, "mode": "ADD"}, "nested": {"a": [[[None]]]}}
    result = harness.runner.run_hook("Scene.Update.Post", 5, input=rider, input_fields=["id", "title", "\x01"])
    assert result.error is None and result.protocol_errors == [], (result.error, result.protocol_errors)
    with Store(harness.data_dir) as store:
        assert 5 in store.queued_scene_ids()
