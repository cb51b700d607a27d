"""Stash's stderr wire: one prefixed line per line, cut under 60,000 bytes, progress 0..1, secrets redacted."""

from __future__ import annotations

import io
import json
import logging

import pytest

from validation import stash_log, stash_wire


@pytest.fixture(autouse=True)
def clean_state():
    stash_log.set_path_obfuscation(False)
    yield
    stash_wire._secrets.clear()  # each test starts knowing no secret
    stash_log.set_path_obfuscation(False)


def capture(**kwargs) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    return stash_log.configure(stream=stream, **kwargs), stream


def test_levels_and_multi_line_messages_get_one_prefix_per_line():
    logger, stream = capture(debug=True)
    logger.debug("d")
    logger.info("first line\nsecond line\n\n")
    logger.warning("w")
    logger.error("e")
    assert stream.getvalue().split("\n")[:-1] == ["\x01d\x02d", "\x01i\x02first line", "\x01i\x02second line",
                                                  "\x01w\x02w", "\x01e\x02e"]


def test_tracebacks_are_prefixed_line_by_line():
    logger, stream = capture()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.error("failed", exc_info=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) > 2 and all(line.startswith("\x01e\x02") for line in lines)


def test_long_lines_are_cut_under_stash_reader_limit_by_bytes():
    logger, stream = capture()
    logger.info("東" * 50_000)  # 150,000 bytes of UTF-8
    (line,) = stream.getvalue().splitlines()
    assert len(line.encode("utf-8")) + 1 <= stash_log.MAX_LINE_BYTES  # prefix and newline included
    assert line.endswith(stash_log.TRUNCATION_MARK)
    line.encode("utf-8").decode("utf-8")  # never cut inside a character


def test_secrets_and_token_parameters_never_reach_the_wire():
    stash_log.register_secret("s3cr3t-token")
    logger, stream = capture()
    logger.error("GET http://plex:32400/library?X-Plex-Token=abcdef&x=1 with s3cr3t-token; apikey=zzz")
    text = stream.getvalue()
    assert "s3cr3t-token" not in text and "abcdef" not in text and "zzz" not in text
    assert "X-Plex-Token=***" in text


def test_path_obfuscation_hides_paths_but_stays_stable():
    stash_log.set_path_obfuscation(True)
    first = stash_log.redact("matched /data/videos/secret name.mp4 and C:\\Videos\\x.mp4")
    assert "/data/videos" not in first and "Videos" not in first
    assert first == stash_log.redact("matched /data/videos/secret name.mp4 and C:\\Videos\\x.mp4")


def test_json_format_wraps_each_record():
    logger, stream = capture(json_format=True)
    logger.info("hello")
    line = stream.getvalue().splitlines()[0]
    assert line.startswith("\x01i\x02")
    assert json.loads(line[3:])["msg"] == "hello"


def test_progress_is_clamped_and_non_finite_values_dropped():
    stream = io.StringIO()
    for value in (-1, 0.5, 2, float("nan"), float("inf")):
        stash_log.progress(value, stream=stream)
    assert stream.getvalue().splitlines() == ["\x01p\x020.0000", "\x01p\x020.5000", "\x01p\x021.0000"]


def test_a_closed_stderr_loses_a_log_line_not_the_run():
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError

    logger = stash_log.configure(stream=Closed())
    logger.error("nobody reads this")  # must not raise


def test_plain_file_lines_for_the_detached_worker():
    stash_log.register_secret("tok-123456")
    stream = io.StringIO()
    logger = stash_log.configure(plain_file=stream)
    logger.warning("two\nlines with tok-123456")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all("WARNING" in line for line in lines) and "tok-123456" not in stream.getvalue()
