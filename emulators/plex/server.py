"""A Plex Media Server emulator that the real, unmodified plexapi 4.18.3 talks to over HTTP, with faults on demand;
every request is recorded, faulted and unauthorised ones included."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from emulators.plex import views as xml
from emulators.plex.history import PlexWatchState, route_watch_state
from emulators.loopback import LoopbackEmulator
from emulators.plex.model import EmuItem, PlexLibrary
from emulators.plex.request import Headers, RecordedRequest
from emulators.plex.proxy import PMS_REQUEST_LINE_BYTES, ProxyLimits, pms_refusal
from emulators.plex.routes import route

__all__ = ["EmuItem", "PlexEmulator", "RecordedRequest"]


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    kind: str  # status | drop | delay | answer | reset
    times: int | None
    method: str | None = None
    status: int = 500
    delay_s: float = 0.0
    body: bytes = b""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = field(default=0)

    def matches(self, method: str, path: str, target: str) -> bool:
        """Matched against the path, or the raw path with its query string."""
        if self.method is not None and self.method.upper() != method:
            return False
        return bool(self.pattern.search(path) or self.pattern.search(target))


class PlexEmulator(LoopbackEmulator):
    thread_name = "plex-emulator"

    def __init__(self, token: str = "secret-token", machine_identifier: str | None = None,
                 truncate_list_tags: bool = True, missing_item_edits: str = "not_found",
                 proxy: ProxyLimits | None = None, version: str = xml.VERSION) -> None:
        super().__init__()
        self.version = version  # PMS's version (GET /, /identity); watch state follows it (emulators.plex.history)
        self.proxy = proxy  # behind a reverse proxy (nginx's limits): emulators.plex.proxy
        self.request_line_bytes: int | None = PMS_REQUEST_LINE_BYTES  # PMS's own limit (400 above it)
        self.refused_lines: list[str] = []  # request lines PMS itself answered 400 for their length
        self.token = token
        self.machine_identifier = machine_identifier or xml.MACHINE_ID
        self.truncate_list_tags = truncate_list_tags
        # A section edit PUT (``/library/sections/{id}/all?type=1&id=…``) acts on a filtered set: whether an id the
        # section no longer has answers 404 or 200-and-nothing-happens is undocumented (plex-api.md, addendum), so
        # both are on offer: "not_found" or "ignored".
        if missing_item_edits not in ("not_found", "ignored"):
            raise ValueError("missing_item_edits must be 'not_found' or 'ignored'")
        self.missing_item_edits = missing_item_edits
        self.library = PlexLibrary()
        # accounts, play history, scrobble (emulators.plex.history)
        self.watch = PlexWatchState(self.library, server_version=version)
        self.requests: list[RecordedRequest] = []
        self.client_identifiers: set[str] = set()
        self.scan_requests: list[tuple[int, str | None]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    # -- library setup and inspection ------------------------------------------------------------

    def add_section(self, title: str, locations: list[str], type: str = "movie") -> int:
        return self.library.add_section(title, locations, type)

    def add_item(self, section_id: int, file: str, size: int | None = None, title: str = "",
                 added_stamp: int | None = None, **xml_attrs: object) -> int:
        return self.library.add_item(section_id, file, size, title, added_stamp, **xml_attrs)

    def add_pending_file(self, section_id: int, file: str, size: int | None = None, title: str | None = None) -> None:
        """A file on disk Plex has not scanned yet: it becomes an item when a scan covers its folder."""
        self.library.add_pending_file(section_id, file, size, title)

    def move_file(self, rating_key: int, new_file: str, size: int | None = None) -> None:
        """The item's file moved on disk (renamed, upgraded): a scan covering ``new_file`` keeps the item and
        changes its Part's file."""
        self.library.move_file(rating_key, new_file, size)

    def item(self, rating_key: int) -> EmuItem:
        return self.library.item(rating_key)

    def set_field(self, rating_key: int, name: str, value: str | None) -> None:
        """Simulate a user editing a field in Plex (``None``/``""`` clears it)."""
        self.library.set_field(rating_key, name, value)

    def set_tags(self, rating_key: int, tag_type: str, names: list[str]) -> None:
        """Simulate a user replacing one tag type's list in Plex."""
        self.library.set_tags(rating_key, tag_type, names)

    # -- lifecycle -------------------------------------------------------------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def go_down(self) -> None:
        """Stop listening and cut open connections: clients get connection errors until :meth:`come_up`."""
        self.stop()

    def come_up(self) -> None:
        """Listen again on the same port."""
        self.start()

    # -- recorded requests -----------------------------------------------------------------------

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if (method is None or r.method == method.upper())
                       and (path_prefix is None or r.path.startswith(path_prefix)))

    def writes(self) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.method in ("PUT", "POST", "DELETE"))

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.scan_requests.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            identifier = request.headers.get("x-plex-client-identifier")
            if identifier:
                self.client_identifiers.add(identifier)

    def record_scan(self, section_id: int, path: str | None) -> None:
        with self._lock:
            self.scan_requests.append((section_id, path))

    # -- faults ----------------------------------------------------------------------------------

    def fail(self, path_regex: str, status: int, times: int | None = 1, method: str | None = None) -> None:
        """The next ``times`` matching requests (None: all) answer ``status`` with a small HTML body."""
        self._add_fault(_Fault(re.compile(path_regex), "status", times, method, status=status))

    def drop(self, path_regex: str, times: int | None = 1, method: str | None = None) -> None:
        """The next ``times`` matching requests get their connection closed without an answer."""
        self._add_fault(_Fault(re.compile(path_regex), "drop", times, method))

    def delay(self, path_regex: str, delay_s: float, times: int | None = None, method: str | None = None) -> None:
        """Matching requests wait ``delay_s`` before being handled (beyond a client timeout: ReadTimeout)."""
        self._add_fault(_Fault(re.compile(path_regex), "delay", times, method, delay_s=delay_s))

    def answer(self, path_regex: str, status: int, body: bytes, content_type: str = "text/html",
               headers: dict[str, str] | None = None, times: int | None = 1, method: str | None = None) -> None:
        """The next ``times`` matching requests get this canned answer instead of Plex's: what a reverse proxy
        in front of Plex sends (an HTML error or login page with 200, 429 with ``Retry-After``, an empty or
        cut-off body)."""
        self._add_fault(_Fault(re.compile(path_regex), "answer", times, method, status=status, body=body,
                               content_type=content_type, headers=dict(headers or {})))

    def reset_mid_response(self, path_regex: str, times: int | None = 1, method: str | None = None) -> None:
        """The next ``times`` matching requests get the status line, headers and half the body, then the
        connection is reset (a PMS restarting, or a proxy timing out, in the middle of an answer)."""
        self._add_fault(_Fault(re.compile(path_regex), "reset", times, method))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take_faults(self, method: str, path: str, target: str) -> list[_Fault]:
        """The faults this request triggers, each counted against its ``times``."""
        with self._lock:
            hit = []
            for fault in self._faults:
                if fault.matches(method, path, target) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    hit.append(fault)
            self._faults = [f for f in self._faults if f.times is None or f.hits < f.times]
            return hit


def _handler_for(emulator: PlexEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
        server_version = "PlexMediaServer-emulator"

        def log_message(self, format: str, *args: object) -> None:
            pass  # tests read emulator.requests instead

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            refusal = emulator.proxy.refusal(self.requestline, length) if emulator.proxy else None
            if refusal is not None:  # the proxy answers; Plex never sees the request
                self._send(*refusal, "text/html")
                return
            refusal = pms_refusal(self.requestline, emulator.request_line_bytes)
            if refusal is not None:
                with emulator._lock:
                    emulator.refused_lines.append(self.requestline)
                self._send(*refusal, "text/html")
                return
            headers = Headers((key.lower(), value) for key, value in self.headers.items())
            request = RecordedRequest(self.command, parts.path,
                                      parse_qsl(parts.query, keep_blank_values=True), headers, body)
            emulator.record(request)
            for fault in emulator.take_faults(self.command, parts.path, self.path):
                if fault.kind == "delay":
                    time.sleep(fault.delay_s)
                elif fault.kind == "drop":
                    self._drop()
                    return
                elif fault.kind == "answer":
                    self._send(fault.status, fault.body, fault.content_type, fault.headers)
                    return
                elif fault.kind == "reset":
                    status, payload = route(emulator, request)
                    self._send_cut(status, payload)
                    return
                else:
                    self._send(fault.status, f"<html><body><h1>{fault.status}</h1></body></html>".encode(),
                               "text/html")
                    return
            token = headers.get("x-plex-token") or request.param("X-Plex-Token")
            if token != emulator.token:
                self._send(401, b"<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1>"
                                b"</body></html>", "text/html")
                return
            status, payload = route_watch_state(emulator, request) or route(emulator, request)
            self._send(status, payload, "text/xml;charset=utf-8" if status == 200 else "text/html")

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _send_cut(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/xml;charset=utf-8")
                self.send_header("Content-Length", str(len(payload) + 64))  # promises more than it sends
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
            except OSError:
                pass
            self._drop()

        def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except OSError:
                self.close_connection = True  # the client went away (timed out, or we are going down)

        do_GET = do_PUT = do_POST = do_DELETE = _handle

    return Handler
