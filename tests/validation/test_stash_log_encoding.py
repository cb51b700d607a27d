"""Stash reads a plugin's stderr as UTF-8, whatever code page the console (a Windows pipe) would use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOG_ONE_LINE = r"""
from validation import stash_log
stash_log.configure()
stash_log.get_logger("t").warning("Café 日本 scene saved")
stash_log.progress(0.5)
"""


def test_log_lines_are_utf8_under_a_windows_code_page():
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(REPO)}  # a Windows pipe's encoding
    proc = subprocess.run([sys.executable, "-c", LOG_ONE_LINE], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = proc.stderr.decode("utf-8")  # raises on cp1252 bytes
    assert text == "\x01w\x02Café 日本 scene saved\n\x01p\x020.5000\n"
