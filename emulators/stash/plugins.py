"""Stash's plugin endpoints and plugin UI hosting, for the Stash emulator, imitated from Stash's source as
summarised in ../shared/reference/stash-protocol.md."""

from __future__ import annotations

import itertools
import queue
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from graphql import GraphQLError, GraphQLSchema

from emulators.plugin_runner import PluginRunner

HARNESS_DIR = Path(__file__).with_name("ui_harness")
# Stash's default page policy: same-origin connections only (a plugin may widen it with ui.csp).
STASH_CSP = ("default-src data: 'self' 'unsafe-inline'; connect-src data: 'self' ws: wss:; img-src data: *; "
             "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
             "media-src blob: 'self'; worker-src blob: 'self'; child-src 'none'; object-src 'none'; "
             "form-action 'self';")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class PluginHost:
    """One installed plugin: runs its operations and tasks the way Stash does and serves its UI assets."""

    def __init__(self, runner: PluginRunner) -> None:
        self.runner = runner
        self.plugin_id = runner.yml.plugin_id
        self.jobs: dict[str, dict[str, Any]] = {}
        self.results: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._queue: queue.Queue[tuple[str, dict[str, Any], Any]] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._run_jobs, name="stash-job-queue", daemon=True).start()

    # -- GraphQL side ------------------------------------------------------------------------------

    def run_operation(self, plugin_id: str, args: Mapping[str, Any] | None) -> Any:
        """``runPluginOperation(plugin_id, args)`` (§3.4, plugins.go:298-337): runs the plugin at once, outside the
        job queue, with exactly ``args`` (no defaultArgs); ``output`` is the GraphQL result, ``error`` a GraphQL
        error. An unknown plugin id panics in Stash and gqlgen answers "internal system error"."""
        if plugin_id != self.plugin_id:
            raise GraphQLError("internal system error")
        result = self.runner.start(dict(args or {})).wait(timeout=60)
        if result.error:
            raise GraphQLError(result.error)
        return result.output

    def run_task(self, plugin_id: str, task_name: str | None, description: str | None,
                 args_map: Mapping[str, Any] | None) -> str:
        """``runPluginTask(plugin_id, task_name, args_map)`` (§3.1-3.2): queues a job and returns its id; the task's
        defaultArgs fill only keys args_map lacks; jobs run one at a time; a plugin that returns an error still
        ends FINISHED (task_plugin.go:36-45)."""
        if plugin_id != self.plugin_id:
            raise GraphQLError("internal system error")
        try:
            task = self.runner.yml.task(task_name or "")
        except KeyError:
            raise GraphQLError(f"Error creating plugin task: task {task_name!r} not found") from None
        args = {**task.default_args, **dict(args_map or {})}
        job_id = str(next(self._ids))
        with self._lock:
            self.jobs[job_id] = {"id": job_id, "status": "READY", "subTasks": None, "progress": None,
                                 "description": description or f"Running plugin task: {task.name}",
                                 "startTime": None, "endTime": None, "addTime": _now(), "error": None}
        self._queue.put((job_id, args, task.exec_args))
        return job_id

    def find_job(self, job_id: str) -> dict[str, Any] | None:
        """``findJob`` reports READY/RUNNING/FINISHED."""
        with self._lock:
            job = self.jobs.get(str(job_id))
            return dict(job) if job else None

    def _run_jobs(self) -> None:
        while True:
            job_id, args, exec_args = self._queue.get()
            with self._lock:
                self.jobs[job_id].update(status="RUNNING", startTime=_now())
            result = self.runner.start(args, exec_args).wait(timeout=3600)
            with self._lock:
                self.results[job_id] = result
                progress = result.progress[-1] if result.progress else None
                self.jobs[job_id].update(status="FINISHED", endTime=_now(), progress=progress)

    # -- HTTP side ---------------------------------------------------------------------------------

    def asset(self, kind: str) -> bytes:
        """The plugin's ``ui.javascript`` or ``ui.css`` files, concatenated in the yml's order, served at
        ``/plugin/<id>/javascript`` and ``/plugin/<id>/css`` (§4.2, routes_plugin.go)."""
        paths = self.runner.yml.ui_javascript if kind == "javascript" else self.runner.yml.ui_css
        return b"\n".join((self.runner.plugin_dir / path).read_bytes() for path in paths)


def install_plugin_resolvers(schema: GraphQLSchema, emulator: Any) -> None:
    mutation = schema.mutation_type.fields
    query = schema.query_type.fields

    def host() -> PluginHost:
        if emulator.plugin_host is None:
            raise GraphQLError("internal system error")  # no plugin installed: Stash dereferences nil
        return emulator.plugin_host

    if "runPluginOperation" in mutation:  # Stash v0.25+ (stashapp/stash#4603)
        mutation["runPluginOperation"].resolve = (
            lambda _r, _i, plugin_id, args=None: host().run_operation(plugin_id, args))
    mutation["runPluginTask"].resolve = (
        lambda _r, _i, plugin_id, task_name=None, description=None, args=None, args_map=None:
        host().run_task(plugin_id, task_name, description, args_map))
    query["findJob"].resolve = lambda _r, _i, input: host().find_job(input["id"])


def ui_response(host: PluginHost | None, path: str) -> tuple[int, bytes, str, dict[str, str]] | None:
    """The answer to a browser GET, or None when the path is not a page or plugin asset.

    The page that loads the assets is ``ui_harness/index.html``: React 17.0.2 (the version Stash's ui/v2.5 ships)
    and a minimal ``PluginApi`` (register.route, patch.before/after/instead, ReactRouterDOM.Link) under Stash's
    default Content-Security-Policy (internal/api/server.go), so a plugin page that works here uses only what Stash
    gives."""
    if host is None:
        return None
    prefix = f"/plugin/{host.plugin_id}/"
    if path in (prefix + "javascript", prefix + "css"):
        kind = path.rsplit("/", 1)[1]
        return 200, host.asset(kind), CONTENT_TYPES[".js" if kind == "javascript" else ".css"], {}
    if path.startswith("/harness/"):
        file = (HARNESS_DIR / path[len("/harness/"):]).resolve()
        if HARNESS_DIR.resolve() not in file.parents or not file.is_file():
            return 404, b"", "text/plain", {}
        return 200, file.read_bytes(), CONTENT_TYPES.get(file.suffix, "application/octet-stream"), {}
    if path == "/" or path.startswith(("/plugin/", "/scenes/")):  # the single-page app's routes
        page = (HARNESS_DIR / "index.html").read_bytes()
        return 200, page, CONTENT_TYPES[".html"], {"Content-Security-Policy": STASH_CSP}
    return None
