"""A Stash GraphQL emulator on a faithful subset of Stash's schema (graphql-core), for the real stashapi, with
5xx answers and hangs on demand; ``release`` picks the Stash release it presents itself as."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from graphql import GraphQLError, build_schema, execute, parse, validate

from emulators.loopback import LoopbackEmulator
from emulators.stash.data import StashData
from emulators.stash.plugins import PluginHost, install_plugin_resolvers, ui_response
from emulators.stash.plays import install_play_resolvers
from emulators.stash.releases import NEWEST, RELEASES
from emulators.stash.resolvers import install_resolvers

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
STASH_VERSION = NEWEST.version
STASH_HASH = NEWEST.hash
PLACEHOLDER_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'


class StashEmulator(LoopbackEmulator):
    thread_name = "stash-emulator"

    def __init__(self, api_key: str = "", require_auth: bool = False, release: str = NEWEST.version) -> None:
        super().__init__()
        self.api_key = api_key
        self.require_auth = require_auth
        self.session_cookie = secrets.token_hex(16)
        self._session_valid = True
        self.release = RELEASES[release]
        self.data = StashData(group_route=self.release.group_route)
        self.schema = build_schema(self.release.schema_text())
        install_resolvers(self.schema, self)
        install_plugin_resolvers(self.schema, self)
        self.plugin_host: PluginHost | None = None
        self.plays = install_play_resolvers(self.schema, self.data)  # play history, resume (stash_plays)
        self.queries: list[tuple[str, str, dict[str, Any]]] = []
        self._faults: list[list[Any]] = []  # [kind, remaining, value]
        self._lock = threading.Lock()

    # -- data (names mirror Stash's objects) -----------------------------------------------------

    def add_studio(self, name: str, parent_id: str | None = None) -> str:
        return self.data.add_studio(name, parent_id)

    def add_performer(self, name: str, disambiguation: str | None = None) -> str:
        return self.data.add_performer(name, disambiguation)

    def add_tag(self, name: str) -> str:
        return self.data.add_tag(name)

    def add_group(self, name: str) -> str:
        return self.data.add_group(name)

    def add_scene(self, *, studio_id: str | None = None, performer_ids=(), tag_ids=(), group_ids=(),
                  files=({"path": "/data/scene.mp4", "size": 1},), urls=(), screenshot: bytes | None = None,
                  **fields: Any) -> str:
        return self.data.add_scene(files=files, screenshot=screenshot, studio_id=studio_id,
                                   performer_ids=[str(p) for p in performer_ids], tag_ids=[str(t) for t in tag_ids],
                                   group_ids=[str(g) for g in group_ids], urls=list(urls), **fields)

    def update_scene(self, scene_id: str, **changes: Any) -> None:
        for key in ("performer_ids", "tag_ids", "group_ids"):
            if key in changes:
                changes[key] = [str(v) for v in changes[key]]
        self.data.update_scene(scene_id, **changes)

    def scene(self, scene_id: str) -> dict[str, Any]:
        with self.data.lock:
            return self.data.scene_dict(self.data.scenes[str(scene_id)], self.url)

    def rename_performer(self, performer_id: str, name: str) -> None:
        self.data.rename(self.data.performers, performer_id, name)

    def rename_studio(self, studio_id: str, name: str) -> None:
        self.data.rename(self.data.studios, studio_id, name)

    def rename_tag(self, tag_id: str, name: str) -> None:
        self.data.rename(self.data.tags, tag_id, name)

    def set_image(self, kind: str, object_id: str, data: bytes | None) -> None:
        """A performer's, studio's or group's image (``kind``: performer, studio, group); None removes it."""
        self.data.set_image(kind, object_id, data)

    def rename_group(self, group_id: str, name: str) -> None:
        self.data.rename(self.data.groups, group_id, name)

    def merge_tags(self, source_ids, destination_id: str) -> None:
        self.data.merge_tags(source_ids, destination_id)

    def delete_scene(self, scene_id: str) -> None:
        self.data.delete_scene(scene_id)

    def set_plugin_settings(self, plugin_id: str, settings: dict[str, Any]) -> None:
        with self.data.lock:
            self.data.plugin_settings[plugin_id] = dict(settings)

    def plugin_settings(self, plugin_id: str) -> dict[str, Any]:
        with self.data.lock:
            return dict(self.data.plugin_settings.get(plugin_id, {}))

    # -- lifecycle -------------------------------------------------------------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def server_connection(self, data_dir: str, plugin_dir: str) -> dict[str, Any]:
        """Exactly the shape Stash puts in a plugin's stdin (Go's http.Cookie marshalled field by field)."""
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return {
            "Scheme": "http", "Host": "0.0.0.0", "Port": self.port,
            "SessionCookie": {"Name": "session", "Value": self.session_cookie, "Quoted": False, "Path": "/",
                              "Domain": "", "Expires": expires, "RawExpires": "", "MaxAge": 3600, "Secure": False,
                              "HttpOnly": False, "SameSite": 2, "Partitioned": False, "Raw": "", "Unparsed": None},
            "Dir": data_dir, "PluginDir": plugin_dir,
        }

    # -- auth and faults -------------------------------------------------------------------------

    def install_plugin(self, plugin_dir: str | Path, data_dir: str | Path) -> PluginHost:
        """Install a plugin: runPluginOperation/runPluginTask run it, and its ``ui:`` assets are served."""
        from emulators.plugin_runner import PluginRunner

        connection = self.server_connection(data_dir=str(data_dir), plugin_dir=str(plugin_dir))
        self.plugin_host = PluginHost(PluginRunner(plugin_dir, connection))
        return self.plugin_host

    def expire_session(self) -> None:
        self._session_valid = False

    def authorized(self, headers: dict[str, str]) -> bool:
        api_key = headers.get("apikey")
        if api_key is not None:
            return bool(self.api_key) and api_key == self.api_key
        if not self.require_auth:
            return True
        cookie = headers.get("cookie", "")
        sent = dict(part.strip().split("=", 1) for part in cookie.split(";") if "=" in part)
        return self._session_valid and sent.get("session") == self.session_cookie

    def fail(self, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._faults.append(["status", times, status])

    def fail_graphql(self, message: str, times: int = 1, status: int = 200, matching: str = "") -> None:
        """Answer the next ``times`` GraphQL requests (whose text contains ``matching``) with this error: gqlgen
        sends resolver errors (SQLite's "database is locked" while a scan writes) with 200 and validation
        errors with 422."""
        with self._lock:
            self._faults.append(["graphql", times, (status, message, matching)])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def hang(self, delay_s: float, times: int = 1) -> None:
        with self._lock:
            self._faults.append(["hang", times, delay_s])

    def take_fault(self, body: bytes = b"") -> tuple[str, Any] | None:
        with self._lock:
            for fault in self._faults:
                if fault[0] == "graphql" and fault[2][2].encode() not in body:
                    continue
                if fault[1] > 0:
                    fault[1] -= 1
                    return fault[0], fault[2]
        return None

    def reset_queries(self) -> None:
        with self._lock:
            self.queries.clear()

    def run_graphql(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query, variables = body.get("query") or "", body.get("variables") or {}
        try:
            document = parse(query)
        except GraphQLError as exc:
            return 422, {"errors": [{"message": exc.message, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}],
                         "data": None}
        errors = validate(self.schema, document)
        if errors:
            return 422, {"errors": [{"message": e.message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                                    for e in errors], "data": None}
        operation = next((d for d in document.definitions if hasattr(d, "selection_set")), None)
        name = operation.name.value if operation is not None and operation.name else ""
        with self._lock:
            self.queries.append((name, query, dict(variables)))
        result = execute(self.schema, document, variable_values=variables, operation_name=body.get("operationName"))
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
        return 200, payload


STASH_UI_PAGE = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><base href="/">'
                 b'<title>Stash</title></head><body><div id="root"></div></body></html>')


def _handler_for(emulator: StashEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            if status == 401:
                self.send_header("WWW-Authenticate", "FormBased")
            self.end_headers()
            self.wfile.write(payload)

        def _gate(self, body: bytes = b"") -> bool:
            """Faults first, then auth: a ``session`` cookie or an ``ApiKey`` header (401 with an empty body
            otherwise); the API key is also taken as ``?apikey=`` (pkg/session/session.go, stash-protocol.md §5.1)."""
            fault = emulator.take_fault(body)
            if fault is not None and fault[0] == "hang":
                time.sleep(fault[1])
            elif fault is not None and fault[0] == "graphql":
                status, message, _ = fault[1]
                self._send(status, json.dumps({"errors": [{"message": message}], "data": None}).encode("utf-8"))
                return False
            elif fault is not None:
                self._send(fault[1], b'{"errors":[{"message":"emulated failure"}]}')
                return False
            headers = {key.lower(): value for key, value in self.headers.items()}
            query_key = parse_qs(urlsplit(self.path).query).get("apikey")
            if query_key and "apikey" not in headers:
                headers["apikey"] = query_key[0]
            if not emulator.authorized(headers):
                self._send(401, b"")
                return False
            return True

        def do_POST(self) -> None:
            """POST /graphql answers like Stash's gqlgen server: 422 for parse/validation errors, 200 with ``errors``
            for resolver errors."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if urlsplit(self.path).path != "/graphql":
                self._send(404, b"")
                return
            if not self._gate(raw):
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, b'{"errors":[{"message":"body is not JSON"}]}')
                return
            status, payload = emulator.run_graphql(body)
            self._send(status, json.dumps(payload).encode("utf-8"))

        def do_GET(self) -> None:
            """GET /scene/<id>/screenshot serves covers under the GraphQL auth, and so do /performer/<id>/image,
            /studio/<id>/image and /group/<id>/frontimage (Stash's placeholder SVG when the object has no image:
            internal/api/routes_performer.go etc.)."""
            path = urlsplit(self.path).path
            page = ui_response(emulator.plugin_host, path)
            if page is not None:
                status, body, content_type, headers = page
                self.send_response(status)
                for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                return
            parts = path.strip("/").split("/")
            kind = emulator.data.image_kinds.get((parts[0], parts[2])) if len(parts) == 3 else None
            if kind is not None:
                if self._gate():
                    self._object_image(kind, parts[1])
                return
            if len(parts) != 3 or parts[0] != "scene" or parts[2] != "screenshot":
                # Stash serves its web UI's index.html for any other path without a file extension, so
                # a Plex client pointed at Stash's port reads an HTML page (internal/api/server.go, "/*").
                if "." in parts[-1]:
                    self._send(404, b"")
                else:
                    self._send(200, STASH_UI_PAGE, "text/html; charset=utf-8")
                return
            if not self._gate():
                return
            image = emulator.data.screenshots.get(parts[1])
            if image is None:
                self._send(404, b"")
                return
            self._send(200, image, "image/png")

        def _object_image(self, kind: str, object_id: str) -> None:
            with emulator.data.lock:
                table = {"performer": emulator.data.performers, "studio": emulator.data.studios,
                         "group": emulator.data.groups}[kind]
                if object_id not in table:
                    self._send(404, b"")
                    return
                image = emulator.data.images.get((kind, object_id))
            if image is None:
                self._send(200, PLACEHOLDER_SVG, "image/svg+xml")
            else:
                self._send(200, image, "image/jpeg" if image.startswith(b"\xff\xd8") else "image/png")

    return Handler
