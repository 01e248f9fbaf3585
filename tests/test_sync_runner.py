"""The runner in-process against the sandbox: crashes between a request and its commit,
faults, refusals, ambiguous contacts, dry runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from e2e import (
    Call,
    Harness,
    agent_id,
    ago,
    by_marker,
    contacts_by_phone,
    drop_after_write,
    wrap_desk,
)
from sandbox_fixture import (
    desk_session,
    sandbox,  # noqa: F401
)

from ringodesk_cli.errors import ExitCode
from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.sandbox import Sandbox


@pytest.fixture
def harness(sandbox: Sandbox, tmp_path: Path) -> Harness:  # noqa: F811
    return Harness(sandbox, tmp_path)


def counts(sb: Sandbox) -> dict[str, int]:
    return {k: len(sb.records(k)) for k in ("contacts", "tickets", "calls", "tasks")}


CALLS = [
    Call("x-1", "+380671210001", ago(50), disposition="NO ANSWER"),  # contact ticket call task
    Call("x-2", "+380671210001", ago(40), disposition="NO ANSWER"),  # call task (no ticket)
    Call("x-3", "+380671210002", ago(30), sip="anna_sip"),  # contact ticket call
]
EXPECTED = {"contacts": 2, "tickets": 2, "calls": 3, "tasks": 2}


@pytest.mark.parametrize("at", range(1, 12))
@pytest.mark.parametrize("lag", [0, 3600])
def test_a_crash_after_any_write_then_a_rerun_leaves_exactly_one_of_everything(
    harness: Harness, at: int, lag: int
) -> None:
    """CALLS make 11 outcome writes (2 x remember_contact + done for the contacts, then 2
    tickets, 3 calls, 2 tasks): a crash right after each, with and without search lag."""
    harness.sb.set_limits(search_lag_seconds=lag)
    assert harness.sync(CALLS, crash_at=at) is None
    summary = harness.sync(CALLS)
    assert summary.exit_code == ExitCode.OK, summary
    assert counts(harness.sb) == EXPECTED
    for call in CALLS:
        assert len(by_marker(harness.sb.records("calls"), call.id)) == 1
    assert len(by_marker(harness.sb.records("tasks"), "x-2")) == 1


def test_drop_after_write_leaves_that_call_pending_the_others_go_on_next_run_reconciles(
    harness: Harness,
) -> None:
    harness.sb.set_limits(search_lag_seconds=3600)
    undo = drop_after_write(harness.sb, "/api/v1/tickets")
    summary = harness.sync(CALLS)
    undo()
    assert summary.exit_code == ExitCode.UNAVAILABLE
    assert summary.unknown_outcomes == 1
    assert summary.pending == 1
    assert summary.delivered == len(CALLS) - 1  # one unanswered create stops nothing else
    assert "next run checks" in (summary.as_dict()["hint"] or "")
    summary = harness.sync(CALLS)
    assert summary.exit_code == ExitCode.OK
    assert counts(harness.sb) == EXPECTED


def test_a_refused_record_fails_alone_and_is_retried_by_replay_once_fixed(
    sandbox: Sandbox,  # noqa: F811
    tmp_path: Path,
) -> None:
    # A link to a deactivated agent: Zoho refuses the owner (422), only for that call.
    harness = Harness(sandbox, tmp_path, links={"anna_sip": "andrii@sandbox.example"})
    calls = [Call("f-1", "+380671220001", ago(30), sip="anna_sip"), CALLS[0]]
    summary = harness.sync(calls)
    assert summary.exit_code == ExitCode.PARTIAL
    assert (summary.failed, summary.delivered) == (1, 1)
    assert "f-1" in summary.failures[0]
    ledger = Ledger(harness.ledger_path)
    row = ledger.get_call("f-1")
    ledger.close()
    assert row is not None and row.state is CallState.FAILED
    assert not by_marker(sandbox.records("calls"), "f-1")

    fixed = {"anna_sip": agent_id(sandbox, "taras@sandbox.example")}
    harness.policy = replace(harness.policy, employees=fixed)
    summary = harness.sync([], replay="3d")
    assert summary.exit_code == ExitCode.OK
    assert summary.delivered == 1
    assert len(by_marker(sandbox.records("calls"), "f-1")) == 1
    assert len(contacts_by_phone(sandbox, "+380671220001")) == 1
    ledger = Ledger(harness.ledger_path)
    row = ledger.get_call("f-1")
    ledger.close()
    assert row is not None and row.state is CallState.DELIVERED


def test_an_existing_contact_found_by_mobile_is_reused_and_is_no_new_caller(
    harness: Harness,
) -> None:
    session = desk_session(harness.sb)
    made = session.post(
        f"{harness.sb.url}/api/v1/contacts",
        json={"lastName": "Existing", "mobile": "067 123 0001"},
    )
    assert made.ok, made.text
    summary = harness.sync([Call("m-1", "+380671230001", ago(20), sip="anna_sip")])
    assert summary.exit_code == ExitCode.OK
    assert len(harness.sb.records("contacts")) == 1
    assert harness.sb.records("tickets") == []
    assert harness.sb.records("calls")[0]["contactId"] == made.json()["id"]


def test_several_contacts_with_the_number_counted_ambiguous_and_none_created(
    harness: Harness,
) -> None:
    session = desk_session(harness.sb)
    for name in ("Switchboard A", "Switchboard B"):
        assert session.post(
            f"{harness.sb.url}/api/v1/contacts", json={"lastName": name, "phone": "+380671240001"}
        ).ok
    summary = harness.sync([Call("a-1", "+380671240001", ago(20), sip="anna_sip")])
    assert summary.ambiguous_contacts == 1
    assert len(harness.sb.records("contacts")) == 2
    assert len(harness.sb.records("calls")) == 1


def test_dry_run_sends_no_write_and_writes_no_ledger(harness: Harness) -> None:
    summary = harness.sync(CALLS, dry_run=True)
    assert summary.planned == {
        "POST /contacts": 2,
        "POST /tickets": 2,
        "POST /calls": 3,
        "POST /tasks": 2,
    }
    assert not any(k.startswith(("POST /api", "PATCH")) for k in harness.sb.request_counts())
    assert not harness.ledger_path.exists()


def test_a_call_found_by_reconciliation_is_brought_up_to_the_newer_content(
    harness: Harness,
) -> None:
    """Crash after POST /calls (writes: contact x2, ticket, call); the call is then seen
    with its recording: the found activity is PATCHed, not left stale or created again."""
    call = Call("u-1", "+380671250001", ago(20), sip="anna_sip")
    assert harness.sync([call], crash_at=4) is None
    assert len(harness.sb.records("calls")) == 1
    call.recording = "https://rec.example.com/u-1.mp3"
    summary = harness.sync([call])
    assert summary.exit_code == ExitCode.OK
    activity = one_call(harness.sb)
    assert "Recording: https://rec.example.com/u-1.mp3" in activity["description"]
    assert harness.sb.request_counts()["PATCH /api/v1/calls/{id}"] == 1
    assert harness.sync([call]).already_delivered == 1


def one_call(sb: Sandbox) -> dict[str, object]:
    calls = sb.records("calls")
    assert len(calls) == 1, calls
    return calls[0]


def test_a_partly_delivered_call_seen_with_new_content_gets_its_activity_updated(
    harness: Harness,
) -> None:
    """Missed call from a new caller: writes contact x2, ticket, call, task. A crash at the
    task leaves the call created but the record pending; it then comes with a recording."""
    call = Call("u-2", "+380671250002", ago(20), disposition="NO ANSWER")
    assert harness.sync([call], crash_at=5) is None
    call.recording = "https://rec.example.com/u-2.mp3"
    assert harness.sync([call]).exit_code == ExitCode.OK
    activity = one_call(harness.sb)
    assert "Recording: https://rec.example.com/u-2.mp3" in str(activity["description"])
    assert len(harness.sb.records("tasks")) == 1


def test_a_create_refused_by_revoked_tokens_does_not_make_a_second_new_caller_ticket(
    harness: Harness,
) -> None:
    """A's contact POST is refused (tokens revoked after the contact index's listing); B, of
    the same number, then creates the contact and the new caller's ticket; A's replay adds
    none."""
    listings = []

    def revoke_after_listing(method: str, path: str, reply: object) -> None:
        if method == "GET" and path == "/api/v1/contacts":
            listings.append(path)
            if len(listings) == 1:
                harness.sb.revoke_all_tokens()

    undo = wrap_desk(harness.sb, revoke_after_listing)
    a = Call("n-a", "+380671260001", ago(30), sip="anna_sip")
    assert harness.sync([a]).exit_code == ExitCode.AUTH
    undo()
    harness.reactivate()
    b = Call("n-b", "+380671260001", ago(20), sip="anna_sip")
    assert harness.sync([b]).exit_code == ExitCode.OK
    assert harness.sync([], replay="3d").delivered == 1
    assert len(harness.sb.records("contacts")) == 1
    assert len(harness.sb.records("calls")) == 2
    assert [t["subject"] for t in harness.sb.records("tickets")] == [
        by_marker(harness.sb.records("tickets"), "n-b")[0]["subject"]
    ]


def test_an_unknown_number_costs_no_contact_search_with_the_index(harness: Harness) -> None:
    calls = [
        Call("s-1", "+380671270001", ago(30), sip="anna_sip"),
        Call("s-2", "+380671270002", ago(20), disposition="NO ANSWER"),
        Call("s-3", "+380671270001", ago(10), sip="anna_sip"),  # known from the ledger now
    ]
    summary = harness.sync(calls)
    assert summary.exit_code == ExitCode.OK, summary
    assert "GET /contacts/search" not in summary.requests
    assert len(harness.sb.records("contacts")) == 2


def test_above_the_index_limit_a_number_is_searched_by_phone_then_mobile(
    harness: Harness,
) -> None:
    """More contacts than ``contacts.index_max``: no listing, a wildcard search of ``phone``
    then ``mobile`` (never ``_all``), the hit verified against the normalised number."""
    sb = harness.sb
    harness.index_max = 1
    for last, mobile in (("Mobile Only", "0671270009"), ("Other", "0671270010")):
        made = desk_session(sb).post(
            f"{sb.url}/api/v1/contacts", json={"lastName": last, "mobile": mobile}, timeout=5
        )
        assert made.status_code in (200, 201), made.text
        if last == "Mobile Only":
            wanted = made.json()["id"]
    seen: list[str] = []
    undo = wrap_desk(sb, lambda m, p, r: seen.append(f"{m} {p}"))
    summary = harness.sync([Call("m-1", "+380671270009", ago(5), sip="anna_sip")])
    undo()
    assert summary.exit_code == ExitCode.OK, summary
    assert summary.requests["GET /contacts/search"] == 2  # phone (no hit), then mobile (hit)
    assert "GET /api/v1/contacts" not in seen  # no listing above the limit
    assert len(sb.records("contacts")) == 2  # the mobile-only contact was reused
    call = by_marker(sb.records("calls"), "m-1")[0]
    assert call["contactId"] == wanted


def test_creates_that_keep_getting_no_answer_stop_the_run(harness: Harness) -> None:
    calls = [Call(f"z-{i}", f"+38067129{i:04d}", ago(40 - i), sip="anna_sip") for i in range(12)]
    undo = drop_after_write(harness.sb, "/api/v1/contacts", times=100)
    summary = harness.sync(calls)
    undo()
    assert summary.exit_code == ExitCode.UNAVAILABLE
    assert summary.stopped is not None
    assert 5 <= summary.unknown_outcomes < len(calls)  # five in a row without an answer
    again = harness.sync(calls)
    assert again.exit_code == ExitCode.OK, again
    assert len(harness.sb.records("contacts")) == len(calls)  # the lost creates were found


def test_a_number_whose_first_call_lost_its_contact_waits_so_the_ticket_stays_on_it(
    harness: Harness,
) -> None:
    harness.sb.set_limits(search_lag_seconds=3600)
    first = Call("w-1", "+380671300001", ago(30), disposition="NO ANSWER")
    later = Call("w-2", "+380671300001", ago(20), sip="anna_sip")
    undo = drop_after_write(harness.sb, "/api/v1/contacts")
    summary = harness.sync([first, later])
    undo()
    assert summary.exit_code == ExitCode.UNAVAILABLE
    assert summary.unknown_outcomes == 1
    assert harness.sb.records("calls") == []  # the later call waited too
    again = harness.sync([first, later])
    assert again.exit_code == ExitCode.OK, again
    tickets = harness.sb.records("tickets")
    assert len(tickets) == 1
    assert by_marker(tickets, "w-1") == tickets  # the first inbound call's, as R4 wants
    assert len(harness.sb.records("contacts")) == 1


def _make_contact(sb: Sandbox, session: object, name: str, phone: str) -> str:
    made = session.post(  # type: ignore[attr-defined]
        f"{sb.url}/api/v1/contacts", json={"lastName": name, "phone": phone}, timeout=5
    )
    assert made.ok, made.text
    sb.advance_time(60)  # distinct modifiedTime for each
    return str(made.json()["id"])


def test_of_several_contacts_with_the_number_the_most_recently_modified_one_gets_the_call(
    harness: Harness,
) -> None:
    sb = harness.sb
    session = desk_session(sb)
    oldest, middle, newest = (
        _make_contact(sb, session, f"Switchboard {n}", "+380671240002") for n in "ABC"
    )
    # The oldest contact is edited last: now it is the most recently modified match.
    edited = session.patch(
        f"{sb.url}/api/v1/contacts/{oldest}", json={"firstName": "Edited"}, timeout=5
    )
    assert edited.ok, edited.text
    summary = harness.sync([Call("a-2", "+380671240002", ago(20), disposition="NO ANSWER")])
    assert summary.exit_code == ExitCode.OK, summary
    assert summary.ambiguous_contacts == 1
    assert len(sb.records("contacts")) == 3  # never a fourth for a number that has matches
    assert by_marker(sb.records("calls"), "a-2")[0]["contactId"] == oldest
    assert by_marker(sb.records("tasks"), "a-2")[0]["contactId"] == oldest
    assert {middle, newest}.isdisjoint(c["contactId"] for c in sb.records("calls"))


def test_the_contact_the_ledger_links_to_a_number_wins_over_a_newer_match(
    harness: Harness,
) -> None:
    sb = harness.sb
    session = desk_session(sb)
    linked = _make_contact(sb, session, "First", "+380671240003")
    assert harness.sync([Call("l-1", "+380671240003", ago(30), sip="anna_sip")]).exit_code == 0
    assert by_marker(sb.records("calls"), "l-1")[0]["contactId"] == linked
    newer = _make_contact(sb, session, "Second", "+380671240003")
    summary = harness.sync([Call("l-2", "+380671240003", ago(20), sip="anna_sip")])
    assert summary.exit_code == ExitCode.OK, summary
    assert by_marker(sb.records("calls"), "l-2")[0]["contactId"] == linked != newer
    assert len(sb.records("contacts")) == 2


def test_bad_rows_keep_their_quarantine_key_across_runs(harness: Harness) -> None:
    """Rows without a Ringostat id are known by file and line; rows with one by the id, so
    that the row is still recognised when the export has grown above it."""
    no_id = [Call("", "+380671250101", ago(40)), Call("", "+380671250102", ago(39))]
    bad_caller = Call("q-9", "+38 (067) 12", ago(38))
    good = Call("g-1", "+380671250103", ago(37), sip="anna_sip")
    first = harness.sync([*no_id, bad_caller, good])
    assert first.exit_code == ExitCode.PARTIAL, first
    assert (first.read, first.quarantined, first.quarantined_before, first.delivered) == (
        4,
        3,
        0,
        1,
    )
    export = harness.tmp / "export.csv"
    assert first.bad_rows == [
        f"{export}:2: uniqueid: the call has no Ringostat id",
        f"{export}:3: uniqueid: the call has no Ringostat id",
        f"{export}:4: caller: '+38 (067) 12' is not a phone number",
    ]
    second = harness.sync([*no_id, bad_caller, good])
    assert second.exit_code == ExitCode.OK, second
    assert (second.quarantined, second.quarantined_before) == (0, 3)
    assert second.already_delivered == 1
    # A new call at the top moves the id'ed bad row to line 5: still the same quarantine.
    newer = Call("g-2", "+380671250104", ago(36), sip="anna_sip")
    third = harness.sync([newer, bad_caller, good])
    assert (third.quarantined, third.quarantined_before) == (0, 1), third
    ledger = Ledger(harness.ledger_path)
    try:
        assert ledger.quarantine_count() == 3
    finally:
        ledger.close()


def test_a_dry_run_over_bad_rows_reports_them_and_writes_nothing(harness: Harness) -> None:
    calls = [
        Call("", "+380671250201", ago(40)),
        Call("dq-2", "+38 (067) 12", ago(39)),
        Call("dq-3", "+380671250203", ago(38), sip="anna_sip"),
    ]
    export = harness.tmp / "export.csv"
    expected = [
        f"{export}:2: uniqueid: the call has no Ringostat id",
        f"{export}:3: caller: '+38 (067) 12' is not a phone number",
    ]
    dry = harness.sync(calls, dry_run=True)
    assert (dry.bad_rows, dry.quarantined, dry.quarantined_before) == (expected, 2, 0)
    assert dry.read == 3  # bad rows are rows read too
    assert dry.planned["POST /calls"] == 1
    assert not harness.ledger_path.exists()
    assert harness.sb.records("calls") == []

    real = harness.sync(calls)
    assert (real.bad_rows, real.quarantined) == (expected, 2)
    written = harness.ledger_path.read_bytes()
    dry = harness.sync(calls, dry_run=True)
    assert (dry.bad_rows, dry.quarantined, dry.quarantined_before) == ([], 0, 2)
    assert harness.ledger_path.read_bytes() == written
    ledger = Ledger(harness.ledger_path)
    try:
        assert ledger.quarantine_count() == 2
    finally:
        ledger.close()
