"""Everything PlexSync reads from Stash, over stashapi's transport with our own explicit queries.

stashapi sets no HTTP timeout and logs to stderr itself; here every request (the three at construction
included) has (connect, read) timeouts, its log goes through ours, and the session cookie (which expires after
an hour: Stash's default ``max_session_age``) is swapped for the API key on long runs or on a 401.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

import requests
from requests.adapters import HTTPAdapter

from validation.limits import IMAGE_UPLOAD_BYTES
from validation.stash_log import get_logger, quiet_insecure_warnings, register_secret
from worker.stash import queries as q
from worker.stash.versions import StashFeatures, features_of

COOKIE_MAX_AGE_S = 50 * 60  # Stash's default max_session_age is 3600 s
IDS_PER_REQUEST = 200
LOCKED_ATTEMPTS = 4
T = TypeVar("T")
LOOPBACK_HOSTS = frozenset({"0.0.0.0", "localhost", "::1", "::"})  # stashapi turns 0.0.0.0 into 127.0.0.1
IMAGE_LIMIT_BYTES = IMAGE_UPLOAD_BYTES  # a larger cover is never sent to Plex: stop reading it there
FANOUT_FILTERS = {
    "performer": ("performers", None),
    "studio": ("studios", -1),  # parent studio renames reach the children's scenes (collections use both)
    "tag": ("tags", 0),
}  # "group": the release's own filter (Documents.group_filter)

log = get_logger("stash")
_answers = threading.local()  # each thread's last HTTP answer from Stash: stashapi's exceptions drop its errors


class StashError(Exception):
    """Stash could not give us what we asked for."""


class StashUnavailable(StashError):
    """Connection refused/reset, timeout, 5xx or "database is locked": try again later."""


class StashAuthError(StashError):
    """401: the session cookie expired and no API key is available (or it was rejected)."""


class StashDataError(StashError):
    """Stash answered, but not with what the schema promises."""


class StashTooOld(StashError):
    """This Stash release lacks what a feature needs (the message names the release it needs)."""


class CoverUnusable(StashDataError):
    """The scene's cover could not be had (Stash refused it, or it is larger than Plex accepts)."""


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeouts_s: tuple[float, float]) -> None:
        super().__init__()
        self.timeouts_s = timeouts_s

    def send(self, request, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeouts_s
        return super().send(request, **kwargs)


class _LogAdapter:
    """stashapi's ``Logger`` hook: its messages join ours instead of writing Stash's wire themselves."""

    def __getattr__(self, level: str):
        method = {"trace": "debug", "progress": "debug", "exit": "info"}.get(level, level)
        return lambda message="", *args, **kwargs: getattr(log, method, log.debug)(str(message))


def _make_interface(conn: Mapping[str, Any], timeouts_s: tuple[float, float]):
    from urllib.request import getproxies

    from stashapi.stashapp import StashInterface

    plain_http = str(conn.get("Scheme") or "http").lower() == "http"

    class TimedStashInterface(StashInterface):
        """stashapi with a default timeout on every request, including those its constructor makes."""

        @property
        def s(self) -> requests.Session:
            return self.__dict__["_session"]

        @s.setter
        def s(self, session: requests.Session) -> None:
            adapter = _TimeoutAdapter(timeouts_s)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.hooks["response"].append(_remember_answer)
            if plain_http and not getproxies():
                # requests would look up proxies, ~/.netrc and CA bundles on every call (stat()s per scene);
                # over plain HTTP, with the session cookie or API key, none of them can apply.
                session.trust_env = False
            self.__dict__["_session"] = session

    verify = not talks_to_own_stash_over_tls(conn)
    if not verify:
        quiet_insecure_warnings()
    return TimedStashInterface(dict(conn), verify_ssl=verify)


def talks_to_own_stash_over_tls(conn: Mapping[str, Any]) -> bool:
    """HTTPS to the Stash that started us, on this machine: its certificate names its public host, never
    127.0.0.1, so checking it would fail every request while protecting nothing (the traffic is loopback)."""
    scheme = str(conn.get("Scheme") or "http").lower()
    host = str(conn.get("Host") or "localhost").strip("[]").lower()
    return scheme == "https" and (host in LOOPBACK_HOSTS or host.startswith("127."))


def _remember_answer(response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
    _answers.last = response
    return response


def _graphql_errors(response: requests.Response | None) -> str:
    """The ``errors`` Stash sent (stashapi logs them, then raises only "200 OK query failed")."""
    if response is None:
        return ""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    return "; ".join(str(error.get("message", ""))[:500] for error in errors if isinstance(error, dict))


def _translate(exc: Exception) -> StashError:
    if isinstance(exc, StashError):
        return exc
    response = getattr(_answers, "last", None)
    _answers.last = None
    detail = _graphql_errors(response)
    text = f"{exc}: {detail}" if detail else str(exc)
    if response is not None and response.status_code == 422:
        return StashDataError(f"Stash rejected PlexSync's query (422: {detail or 'invalid query'}). This Stash "
                              "version does not know a field PlexSync reads: update Stash, or report it")
    if isinstance(exc, requests.Timeout):
        return StashUnavailable(f"Stash did not answer in time (a long scan or a busy database?): {text}")
    if isinstance(exc, requests.ConnectionError):
        return StashUnavailable(f"Stash is not reachable (is it running, and is its address the one it gave "
                                f"PlexSync?): {text}")
    if "database is locked" in text:
        return StashUnavailable(f"Stash's database is busy (database is locked): {text}")
    if text.startswith("401") or " 401 " in text:
        return StashAuthError("Stash rejected our credentials (401). If the session expired, set an API key in "
                              "Stash (Settings → Security) so long runs can continue.")
    if re.match(r"^5\d\d ", text):
        return StashUnavailable(text)
    return StashDataError(text)


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, StashUnavailable) and "database is locked" in str(exc)


def _while_locked(action: Callable[[], T]) -> T:
    """Stash answers "database is locked" while a scan or another plugin holds SQLite's write lock, for
    moments: ask again a few times before the queue's longer backoff takes over."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

    for attempt in Retrying(retry=retry_if_exception(_is_locked), stop=stop_after_attempt(LOCKED_ATTEMPTS),
                            wait=wait_random_exponential(multiplier=0.25, max=2.0), reraise=True):
        with attempt:
            return action()
    raise AssertionError("unreachable")  # pragma: no cover - tenacity returns or reraises


def connection_from_url(url: str, api_key: str | None = None) -> dict[str, Any]:
    """``http://host:9999`` (the command line's --stash-url) as the server connection Stash would hand over."""
    match = re.match(r"^(https?)://([^/:]+)(?::(\d+))?/?", url.strip())
    if not match:
        raise ValueError(f"Stash URL must look like http://host:9999, got {url!r}")
    conn: dict[str, Any] = {"Scheme": match.group(1), "Host": match.group(2), "Port": int(match.group(3) or 9999)}
    if api_key:
        register_secret(api_key)
        conn["ApiKey"] = api_key
    return conn


class StashReader:
    def __init__(self, server_connection: Mapping[str, Any], *, timeout_s: float = 30.0) -> None:
        conn = dict(server_connection)
        conn["Logger"] = _LogAdapter()
        self._timeouts_s = (min(10.0, timeout_s), timeout_s)  # (connect, read)
        def connect() -> None:
            try:
                self.stash = _make_interface(conn, self._timeouts_s)
                self.api_key = self.stash.call_GQL("query { configuration { general { apiKey } } }")[
                    "configuration"]["general"]["apiKey"] or None
            except Exception as exc:
                raise _translate(exc) from None

        _while_locked(connect)
        register_secret(self.api_key)
        self.started_mono_s = time.monotonic()
        self.using_api_key = bool(conn.get("ApiKey"))
        self._features: StashFeatures | None = None

    @classmethod
    def from_url(cls, url: str, api_key: str | None = None, *, timeout_s: float = 30.0) -> StashReader:
        return cls(connection_from_url(url, api_key), timeout_s=timeout_s)

    # -- transport ---------------------------------------------------------------------------

    def ensure_fresh_auth(self) -> None:
        """Before Stash's session cookie expires, continue with the API key (if Stash has one)."""
        if not self.using_api_key and time.monotonic() - self.started_mono_s > COOKIE_MAX_AGE_S:
            self._switch_to_api_key()

    def _switch_to_api_key(self) -> bool:
        if not self.api_key:
            return False
        self.stash.s.headers["ApiKey"] = self.api_key
        self.stash.s.cookies.clear()
        self.using_api_key = True
        log.info("Continuing with Stash's API key (the session cookie expires after an hour)")
        return True

    def call(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return _while_locked(lambda: self._call_once(query, variables))

    def _call_once(self, query: str, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                return self.stash.call_GQL(query, dict(variables or {}))
            except Exception as exc:
                error = _translate(exc)
                if isinstance(error, StashAuthError) and attempt == 1 and not self.using_api_key \
                        and self._switch_to_api_key():
                    continue
                raise error from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- what PlexSync reads -----------------------------------------------------------------

    @property
    def features(self) -> StashFeatures:
        """This Stash's version and what it can be asked (one request, the first time)."""
        if self._features is None:
            features = features_of(self.call(q.VERSION)["version"]["version"])
            if not features.groups:
                log.debug("Stash %s: its movies are read as groups", features.name)
            self._features = features
        return self._features

    def require(self, release: tuple[int, int, int], what: str) -> None:
        """Raise StashTooOld, saying plainly what ``what`` needs, when this Stash is older than ``release``."""
        if not self.features.has(release):
            raise StashTooOld(self.features.needs(release, what))

    @property
    def documents(self) -> q.Documents:
        return q.documents_for(self.features)

    def plugin_settings(self, plugin_id: str) -> dict[str, Any]:
        plugins = self.call(self.documents.plugin_settings, {"ids": [plugin_id]})["configuration"]["plugins"] or {}
        settings = plugins.get(plugin_id) or {}
        if not isinstance(settings, dict):
            raise StashDataError(f"Stash returned settings for {plugin_id} that are not an object")
        return settings

    def scenes_by_ids(self, ids: Iterable[int | str]) -> dict[int, dict[str, Any]]:
        """Hydrate scenes, ≤200 ids per request; scenes Stash no longer has are simply absent."""
        documents = self.documents
        wanted = [int(i) if documents.numeric_ids else str(int(i)) for i in ids]
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            chunk = wanted[start:start + IDS_PER_REQUEST]
            for scene in self.call(documents.scenes_by_ids, {"ids": chunk})["findScenes"]["scenes"]:
                found[int(scene["id"])] = scene
        return found

    def pages(self, document: str, scene_filter: dict | None, per_page: int, sort: str,
               direction: str, *, read_ahead: bool = False) -> Iterator[dict[str, Any]]:
        """Every scene the filter selects, page by page. With ``read_ahead`` the next page is asked for while the
        caller works through this one, so a Sync All over a big library does not wait for Stash and then make
        Stash wait for it."""
        def fetch(page: int) -> dict[str, Any]:
            variables = {"filter": {"page": page, "per_page": per_page, "sort": sort, "direction": direction},
                         "scene_filter": scene_filter}
            return self.call(document, variables)["findScenes"]

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stash-read-ahead") if read_ahead \
                else nullcontext() as ahead:
            page, result = 1, fetch(1)
            while True:
                scenes = result["scenes"]
                more = bool(scenes) and page * per_page < int(result["count"])
                following = ahead.submit(fetch, page + 1) if more and ahead is not None else None
                yield from scenes
                if not more:
                    return
                page += 1
                result = following.result() if following is not None else fetch(page)

    def iter_scenes(self, *, updated_after_text: str | None = None, per_page: int = 500,
                    newest_first: bool = False, read_ahead: bool = False) -> Iterator[dict[str, Any]]:
        scene_filter = {"updated_at": {"value": updated_after_text, "modifier": "GREATER_THAN"}} if updated_after_text else None
        direction = "DESC" if newest_first else "ASC"
        return self.pages(self.documents.scenes_page, scene_filter, per_page, "updated_at", direction,
                           read_ahead=read_ahead)

    def scene_ids_for(self, kind: str, object_id: str | int) -> list[int]:
        """Scenes carrying a performer / studio / tag / group (renames bump no scene, fire no scene hook)."""
        field, depth = self.documents.group_filter if kind == "group" else FANOUT_FILTERS[kind]
        criterion: dict[str, Any] = {"value": [str(object_id)], "modifier": "INCLUDES"}
        if depth is not None:
            criterion["depth"] = depth
        return [int(scene["id"]) for scene in self.pages(q.SCENE_IDS_PAGE, {field: criterion}, 1000, "id", "ASC")]

    def download_image(self, url: str) -> bytes:
        try:
            response = self.stash.s.get(url, timeout=self._timeouts_s, stream=True)
            if response.status_code == 401 and self._switch_to_api_key():
                response = self.stash.s.get(url, timeout=self._timeouts_s, stream=True)
            if response.status_code >= 500:
                raise StashUnavailable(f"Stash answered {response.status_code} for an image")
            if response.status_code != 200:
                raise CoverUnusable(f"Stash answered {response.status_code} for the scene's cover")
            data = response.raw.read(IMAGE_LIMIT_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise _translate(exc) from None
        if len(data) > IMAGE_LIMIT_BYTES:
            raise CoverUnusable(f"the scene's cover is larger than the {IMAGE_LIMIT_BYTES // (1024 * 1024)} MB "
                                "Plex accepts")
        return data


def parse_stash_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_like(moment: datetime, template: str) -> str:
    """Format ``moment`` in the offset and shape of ``template`` (Stash compares these as text)."""
    reference = parse_stash_time(template)
    local = moment.astimezone(reference.tzinfo or timezone.utc)
    has_fraction = "." in template.split("T", 1)[-1]
    text = local.isoformat(timespec="microseconds" if has_fraction else "seconds")
    if template.endswith("Z"):
        text = text.replace("+00:00", "Z")
    return text


def watermark_with_margin(updated_at_text: str, margin_s: float = 600) -> str:
    """An ``updated_at`` Stash returned, moved back by a safety margin, in the same offset and shape."""
    return format_like(parse_stash_time(updated_at_text) - timedelta(seconds=margin_s), updated_at_text)


def window_start_like(template: str, ago_s: float) -> str:
    """``now - ago_s`` written the way Stash writes ``template`` (first Sync Recent: the last 24 h)."""
    return format_like(datetime.now(timezone.utc) - timedelta(seconds=ago_s), template)
