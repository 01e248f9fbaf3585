#!/usr/bin/env bash
# The whole suite with the machine's wall clock a year ahead (or DAYS days: the first argument),
# so a test that rots with the calendar fails today rather than next year. Needs libfaketime
# (Debian/Ubuntu: `apt-get install faketime`). Extra arguments go to pytest.
#
#   bash tests/year_ahead.sh            # +365 days, every test
#   bash tests/year_ahead.sh 730 -x     # two years ahead, stop at the first failure
#
# How the clock is moved, and why this way (docs/testing.md, "A year ahead"):
# - libfaketime is preloaded directly (its multi-threaded build, no shared memory): the
#   `faketime` wrapper's shared-memory start-up crashed a threaded test now and then.
# - FAKETIME_DONT_FAKE_MONOTONIC=1: setting a machine's date moves the wall clock, never the
#   monotonic one; faking it too makes every timed wait (Event.wait, Queue.get) hang.
# - tests/support on PYTHONPATH: its sitecustomize.py lets time.sleep wait in select(), since
#   libfaketime breaks the clock_nanosleep Python's sleep uses (EINVAL). Every `ringodesk` the
#   tests start gets the same folder on its PYTHONPATH (tests/conftest.py, subprocess_env).
set -euo pipefail
cd "$(dirname "$0")/.."

days="${1:-365}"
[[ $# -gt 0 ]] && shift

lib=""
for candidate in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
  /usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1 \
  /usr/lib/faketime/libfaketimeMT.so.1 /usr/local/lib/faketime/libfaketimeMT.so.1; do
  if [[ -e "$candidate" ]]; then lib="$candidate"; break; fi
done
if [[ -z "$lib" ]]; then
  echo "year_ahead: libfaketime not found; install it (apt-get install faketime)" >&2
  exit 2
fi

here="$(date -u +%FT%TZ)"
export LD_PRELOAD="$lib"
export FAKETIME="+${days}d"
export FAKETIME_DONT_FAKE_MONOTONIC=1
export PYTHONPATH="$PWD/tests/support${PYTHONPATH:+:$PYTHONPATH}"
echo "year_ahead: wall clock ${here} here, $(.venv/bin/python -c 'import datetime; print(datetime.datetime.now(datetime.UTC).strftime("%FT%TZ"))') under the test"
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
