"""The product's paths for the open readings of Zoho, run in-process against the sandbox
under the strict and the lenient preset: refused cf values and call/task descriptions do
not fail a call, what was refused is remembered for the next run, and a lost call create is
reconciled through documented lists only, without a needless PATCH."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from e2e import Call, Harness, ago, by_marker, drop_after_write

from ringodesk_cli.errors import ExitCode
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

LANDING = "https://shop.example/promo?utm_source=google&utm_campaign=winter"


@pytest.fixture(params=["strict", "lenient"])
def sb(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    cfg = SandboxConfig(
        port=0,
        token_requests_per_10min=10_000,
        readings=request.param,
        seed_custom_fields=True,
    )
    sandbox = start_sandbox(cfg)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def _strict(sb: Sandbox) -> bool:
    return sb.readings["cf_values"] == "oas"


def test_a_landing_url_refused_as_a_cf_value_fails_no_call(sb: Sandbox, tmp_path: Path) -> None:
    harness = Harness(sb, tmp_path)
    mapping = {"landing": "cf_landing_page"}
    harness.policy = replace(harness.policy, ticket_mapping=mapping, contact_mapping=mapping)
    summary = harness.sync([Call("cf-1", "+380671230001", ago(30), landing=LANDING)])
    assert summary.exit_code == ExitCode.OK, summary
    assert summary.delivered == 1 and summary.failed == 0
    (ticket,) = by_marker(sb.records("tickets"), "cf-1")
    (contact,) = sb.records("contacts")
    if _strict(sb):
        # Refused on the contact and on the ticket: sent without, kept in the description.
        assert summary.cf_values_dropped == 2
        assert summary.as_dict()["cf_values_dropped"] == 2
        assert not ticket["cf"]["cf_landing_page"] and not contact["cf"]["cf_landing_page"]
        assert LANDING in ticket["description"] and LANDING in contact["description"]
    else:
        assert summary.cf_values_dropped == 0
        assert ticket["cf"]["cf_landing_page"] == LANDING
        assert contact["cf"]["cf_landing_page"] == LANDING


def test_a_refused_description_is_learnt_once_and_not_sent_again_next_run(
    sb: Sandbox, tmp_path: Path
) -> None:
    harness = Harness(sb, tmp_path)
    number = "+380671230002"
    first = [Call("d-1", number, ago(50), disposition="NO ANSWER")]
    summary = harness.sync(first)
    assert summary.exit_code == ExitCode.OK, summary
    refused = sb.readings["call_task_description"] == "refused"
    # One refusal each for calls and tasks under the strict reading, then sent without.
    extra = 1 if refused else 0
    assert summary.requests["POST /calls"] == 1 + extra
    assert summary.requests["POST /tasks"] == 1 + extra
    (call,) = by_marker(sb.records("calls"), "d-1")
    (task,) = by_marker(sb.records("tasks"), "d-1")
    assert (call["description"] is None) is refused
    assert (task["description"] is None) is refused

    later = harness.sync([*first, Call("d-2", number, ago(20), disposition="NO ANSWER")])
    assert later.exit_code == ExitCode.OK, later
    assert later.requests["POST /calls"] == 1 and later.requests["POST /tasks"] == 1
    assert len(by_marker(sb.records("calls"), "d-2")) == 1


@pytest.mark.parametrize("with_ticket", [True, False])
def test_a_lost_call_create_is_found_without_contact_calls_and_not_patched(
    sb: Sandbox, tmp_path: Path, with_ticket: bool
) -> None:
    """The call's POST is performed and its answer lost; the next run (search lagging an
    hour behind) finds it in the ticket's calls or the department's newest calls."""
    harness = Harness(sb, tmp_path)
    sb.set_limits(search_lag_seconds=3600)
    number = "+380671230003"
    calls = [Call("l-1", number, ago(50))]
    if not with_ticket:
        assert harness.sync(calls).exit_code == ExitCode.OK  # the caller is known: no ticket
        calls.append(Call("l-2", number, ago(20)))
    lost = calls[-1].id
    undo = drop_after_write(sb, "/api/v1/calls")
    first = harness.sync(calls)
    undo()
    assert first.unknown_outcomes == 1
    summary = harness.sync(calls)
    assert summary.exit_code == ExitCode.OK, summary
    assert len(by_marker(sb.records("calls"), lost)) == 1
    assert "GET /contacts/{id}/calls" not in summary.requests
    assert "POST /calls" not in summary.requests
    assert not any(k.startswith("PATCH") for k in summary.requests), summary.requests
    assert len(by_marker(sb.records("tickets"), "l-1")) == 1
