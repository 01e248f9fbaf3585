"""`ringodesk demo` runs the installed command end to end against its in-process sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RINGODESK = str(Path(sys.executable).parent / "ringodesk")


def test_demo_runs_the_whole_job_and_exits_zero(subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [RINGODESK, "demo", "--json"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    first = data["first_run"]
    # The sample day: 25 rows, one broken (quarantined as designed), one still IN PROGRESS.
    assert first["read"] == 25
    assert first["quarantined"] == 1
    assert ":22: caller:" in first["bad_rows"][0]
    assert first["waiting_in_progress"] == 1
    assert first["delivered"] == data["created"]["calls"] == 23
    # Then a few calls arrive live, as Ringostat's webhooks, through `ringodesk serve`.
    assert data["live"]["answered_200"] == data["live"]["webhooks"] == 6
    assert data["live"]["delivered"] == data["live"]["calls"] == 3
    assert data["second_run"] == {"read": 25, "delivered": 0, "already_delivered": 23}
    assert data["created"]["tasks"] >= 1
    # 0442223344 is a contact an agent typed "+380 (44) 222-33-44": matched, not created.
    matched = data["matched_existing"]
    assert [(m["contact"], m["typed_in_zoho"]) for m in matched] == [
        ("Oksana Hnatiuk", "+380 (44) 222-33-44")
    ]
    assert "[rs:ua-20240514-0014]" in matched[0]["call"]
    assert data["kept_folder"] is None


def test_demo_leaves_the_users_profiles_alone(subprocess_env: dict[str, str]) -> None:
    home = Path(subprocess_env["RINGODESK_HOME"])
    subprocess.run(
        [RINGODESK, "demo", "--quiet"],
        env=subprocess_env,
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    assert not (home / "config").exists()
    assert not (home / "test-keyring.json").exists()


def test_human_output_shows_markers_and_the_quarantined_row(subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [RINGODESK, "demo"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "[rs:ua-20240514-0002]" in done.stdout
    assert "quarantined as designed" in done.stdout
    assert "matched existing contact Oksana Hnatiuk (+380 (44) 222-33-44)" in done.stdout
    assert "plain file" not in done.stderr
