"""Runs `ringodesk ARGS...` under cProfile in every thread (the delivery runs in worker
threads, which `python -m cProfile` does not see) and writes the merged stats to OUT.

    python bench/profiled.py OUT ringodesk-args...
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
import time
from types import FrameType
from typing import Any


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(_frame: FrameType, _event: str, _arg: Any) -> None:
        # The first event of a new thread: give the thread its own profiler.
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    main_profile = cProfile.Profile(time.thread_time)
    sys.argv = ["ringodesk", *args]
    from ringodesk_cli.main import run

    code: Any = 0
    main_profile.enable()
    try:
        run()
    except SystemExit as exc:
        code = exc.code
    finally:
        main_profile.disable()
        stats = pstats.Stats(main_profile)
        for profile in profiles:
            stats.add(profile)
        stats.dump_stats(out)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
