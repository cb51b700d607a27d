"""A Plex Media Server emulator that the real, unmodified plexapi 4.18.3 talks to over HTTP.

XML with ``text/xml;charset=utf-8``, paging with ``totalSize``, list views with truncated tags, edits in
plexapi's exact query encoding, images, locks, scans, and faults on demand (status codes, dropped
connections, delays, going down and coming back on the same port). Every request is recorded.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

from emulators import plex_xml as xml
from emulators.plex_model import EmuItem, PlexLibrary


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    kind: str  # status | drop | delay
    times: int | None
    method: str | None = None
    status: int = 500
    seconds: float = 0.0
    hits: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class PlexEmulator:
    def __init__(self, token: str = "secret-token", machine_identifier: str | None = None,
                 truncate_list_tags: bool = True) -> None:
        self.token = token
        self.machine_identifier = machine_identifier or xml.MACHINE_ID
        self.truncate_list_tags = truncate_list_tags
        self.library = PlexLibrary()
        self.requests: list[RecordedRequest] = []
        self.client_identifiers: set[str] = set()
        self.scan_requests: list[tuple[int, str | None]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- library setup ---------------------------------------------------------------------------

    def add_section(self, title: str, locations: list[str], type: str = "movie") -> int:
        return self.library.add_section(title, locations, type)

    def add_item(self, section_id: int, file: str, size: int | None = None, title: str = "", added_at: int | None = None,
                 **attrs: str) -> int:
        return self.library.add_item(section_id, file, size, title, added_at, **attrs)

    def add_pending_file(self, section_id: int, file: str, size: int | None = None, title: str | None = None) -> None:
        self.library.add_pending_file(section_id, file, size, title)

    def item(self, rating_key: int) -> EmuItem:
        return self.library.items[int(rating_key)]

    def set_field(self, rating_key: int, name: str, value: str) -> None:
        with self.library.lock:
            self.item(rating_key).fields[name] = value

    def set_tags(self, rating_key: int, tag_type: str, names: list[str]) -> None:
        with self.library.lock:
            self.item(rating_key).tags[tag_type] = list(names)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        self._server = _Server(("127.0.0.1", self.port), _handler_for(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="plex-emulator", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_down(self) -> None:
        """Stop listening: clients get 'connection refused' until :meth:`come_up`."""
        self.stop()

    def come_up(self) -> None:
        self.start()

    def __enter__(self) -> PlexEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests and faults ---------------------------------------------------------------------

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if (method is None or r.method == method)
                       and (path_prefix is None or r.path.startswith(path_prefix)))

    def writes(self) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.method in ("PUT", "POST", "DELETE"))

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def fail(self, path_regex: str, status: int, times: int | None = 1, method: str | None = None) -> None:
        self._add_fault(_Fault(re.compile(path_regex), "status", times, method, status=status))

    def drop(self, path_regex: str, times: int | None = 1, method: str | None = None) -> None:
        self._add_fault(_Fault(re.compile(path_regex), "drop", times, method))

    def delay(self, path_regex: str, seconds: float, times: int | None = None, method: str | None = None) -> None:
        self._add_fault(_Fault(re.compile(path_regex), "delay", times, method, seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take_faults(self, method: str, path: str) -> list[_Fault]:
        with self._lock:
            hit = []
            for fault in self._faults:
                if fault.matches(method, path) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    hit.append(fault)
            return hit

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            identifier = request.headers.get("x-plex-client-identifier")
            if identifier:
                self.client_identifiers.add(identifier)


def _handler_for(emulator: PlexEmulator) -> type[BaseHTTPRequestHandler]:
    from emulators.plex_routes import route

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qsl(parts.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            request = RecordedRequest(self.command, parts.path, query, headers, body)
            emulator.record(request)
            for fault in emulator.take_faults(self.command, parts.path):
                if fault.kind == "delay":
                    time.sleep(fault.seconds)
                elif fault.kind == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                else:
                    self._send(fault.status, f"<html><h1>{fault.status}</h1></html>".encode(), "text/html")
                    return
            token = headers.get("x-plex-token") or request.param("X-Plex-Token")
            if token != emulator.token:
                self._send(401, b"<html><h1>401 Unauthorized</h1></html>", "text/html")
                return
            status, payload = route(emulator, request)
            content_type = "text/xml;charset=utf-8" if status == 200 else "text/html"
            self._send(status, payload, content_type)

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = _handle

    return Handler


Route = Callable[[PlexEmulator, RecordedRequest], tuple[int, bytes]]
