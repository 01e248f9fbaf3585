"""Issue 5's property: over generated exports and any sequence of runs, replays and injected
failures (faults, revocations, crashes), each Ringostat call ends as exactly one call
activity in Zoho Desk, with one contact per number and one task per missed call.

In-process against one sandbox (reset per example) to stay fast; each example ends with a
clean run so that everything can be delivered, and then the sandbox is checked."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from e2e import Call, Harness, ago, by_marker, drop_after_write, revoke_after
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.errors import ExitCode
from ringodesk_cli.sandbox import Sandbox

NUMBERS = ("+380671310001", "+380671310002", "+380501310003")

call_st = st.builds(
    dict,
    number=st.sampled_from(NUMBERS),
    call_type=st.sampled_from(("in", "in", "callback", "out")),
    disposition=st.sampled_from(("ANSWERED", "NO ANSWER", "BUSY", "IN PROGRESS")),
    sip=st.sampled_from(("anna_sip", "petro_sip", "reception_sip", None)),
    minutes=st.integers(min_value=1, max_value=47 * 60),
)
step_st = st.builds(
    dict,
    share=st.integers(min_value=0, max_value=4),  # which calls the export holds
    replay=st.booleans(),
    recording=st.booleans(),  # changed content for delivered calls -> PATCH
    failure=st.sampled_from(("none", "crash", "revoke", "drop", "500", "429", "lag")),
    at=st.integers(min_value=1, max_value=6),
)


def final_call(spec: dict[str, Any], index: int, recording: bool) -> Call:
    disposition = "ANSWERED" if spec["disposition"] == "IN PROGRESS" else spec["disposition"]
    return Call(
        f"h-{index}",
        spec["number"],
        ago(spec["minutes"]),
        call_type=spec["call_type"],
        disposition=disposition,
        sip=spec["sip"],
        recording=f"https://rec.example.com/h-{index}.mp3" if recording else "",
    )


def step_calls(calls: list[Call], specs: list[dict[str, Any]], step: dict[str, Any]) -> list[Call]:
    """A subset of the calls; those generated IN PROGRESS show so until the last run."""
    chosen = [c for i, c in enumerate(calls) if (i + step["share"]) % 5 != 0]
    return [
        replace(c, disposition="IN PROGRESS", billsec=0)
        if specs[int(c.id[2:])]["disposition"] == "IN PROGRESS" and step["share"] % 2
        else replace(c, recording=c.recording if step["recording"] else "")
        for c in chosen
    ]


def run_step(harness: Harness, calls: list[Call], step: dict[str, Any]) -> None:
    sb = harness.sb
    failure, at = step["failure"], step["at"]
    undo = None
    crash_at = None
    if failure == "crash":
        crash_at = at
    elif failure == "revoke":
        undo = revoke_after(sb, at)
    elif failure == "drop":
        undo = drop_after_write(sb, ("/api/v1/calls", "/api/v1/tasks")[at % 2])
    elif failure in ("500", "429"):
        sb.set_faults(fail_next=1 + at % 3, kinds=(failure,))
    elif failure == "lag":
        sb.set_limits(search_lag_seconds=3600)
    summary = harness.sync(calls, replay="3d" if step["replay"] else None, crash_at=crash_at)
    if undo is not None:
        undo()
    sb.set_faults(fail_next=0)
    sb.set_limits(search_lag_seconds=0)
    if summary is not None:
        assert summary.failed == 0, summary.failures
        if summary.stop_code == ExitCode.AUTH:
            harness.reactivate()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(call_st, min_size=2, max_size=6),
    steps=st.lists(step_st, min_size=1, max_size=4),
)
def test_every_call_ends_as_exactly_one_call_activity_whatever_the_runs_and_failures(
    sandbox: Sandbox,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    specs: list[dict[str, Any]],
    steps: list[dict[str, Any]],
) -> None:
    sandbox.reset()
    sandbox.set_limits(token_requests_per_10min=10_000)
    harness = Harness(sandbox, tmp_path_factory.mktemp("prop"))
    calls = [final_call(spec, i, recording=False) for i, spec in enumerate(specs)]
    for step in steps:
        run_step(harness, step_calls(calls, specs, step), step)
    # The clean run: everything pending is re-attempted, the final content is the export's.
    final = [final_call(spec, i, recording=steps[-1]["recording"]) for i, spec in enumerate(specs)]
    harness.reactivate()  # a revocation may have come with the last request of a step
    summary = harness.sync(final, replay="3d")
    assert summary.exit_code == ExitCode.OK, summary

    records = {k: sandbox.records(k) for k in ("contacts", "tickets", "calls", "tasks")}
    for call in final:
        activity = by_marker(records["calls"], call.id)
        assert len(activity) == 1, (call.id, activity)
        missed = call.call_type != "out" and call.disposition != "ANSWERED"
        linked = call.sip in ("anna_sip", "petro_sip")
        unlinked = not missed and call.call_type != "out" and not linked
        assert len(by_marker(records["tasks"], call.id)) == int(missed or unlinked), call
        assert len(by_marker(records["tickets"], call.id)) <= 1
        assert ("Recording:" in activity[0]["description"]) == bool(call.recording)
    phones = Counter(c["phone"] for c in records["contacts"])
    assert set(phones) == {c.client for c in final}
    assert max(phones.values()) == 1, phones
    # new-caller policy: one ticket per number at most, and only for inbound callers
    ticket_contacts = Counter(t["contactId"] for t in records["tickets"])
    assert all(n == 1 for n in ticket_contacts.values()), ticket_contacts
    again = harness.sync(final, replay="3d")
    assert (again.delivered, again.updated) == (0, 0)
