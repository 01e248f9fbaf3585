"""Imported first by every drill: ``drills/secrets.py`` (the secrets drill) would shadow the
standard library's ``secrets`` module, which the sandbox and the credentials store import,
because Python puts a script's own folder first on ``sys.path``. Search that folder last."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if "secrets" in sys.modules and str(getattr(sys.modules["secrets"], "__file__", "")).startswith(
    HERE
):
    raise ImportError("drills/secrets.py was imported as the standard library's `secrets`")
sys.path[:] = [p for p in sys.path if p not in (HERE, "")] + [HERE]
