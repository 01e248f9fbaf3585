"""The contact index as `ringodesk contacts ...` uses it: opened over the profile's ledger,
under the run lock when it is written (a sync may not change the index meanwhile)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from ringodesk_cli.contacts.duplicates import (
    DuplicateGroup,
    MergeOutcome,
    duplicate_groups,
    merge_groups,
)
from ringodesk_cli.contacts.index import ContactIndex, IndexStatus
from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger

if TYPE_CHECKING:
    from ringodesk_cli.session import Session


@contextmanager
def open_index(session: Session, *, write: bool) -> Iterator[ContactIndex]:
    settings = session.settings
    with ExitStack() as stack:
        state_dir = session.state_dir
        if write:
            from ringodesk_cli.locks import RUN_LOCK, RunLock

            state_dir.mkdir(parents=True, exist_ok=True)
            stack.enter_context(RunLock(state_dir, RUN_LOCK))
        ledger = Ledger(state_dir / LEDGER_FILE, readonly=not write)
        stack.callback(ledger.close)
        yield ContactIndex(
            ledger,
            str(settings.get("ringostat.default_region")),
            index_max=int(settings.get("contacts.index_max")),
        )


def update_index(
    session: Session,
    *,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> tuple[str, IndexStatus]:
    """Build (or resume, or with ``rebuild`` start over) or refresh the index; what was
    done (``built``, ``refreshed``, ``search``) and the index's status after."""
    desk = session.desk()
    with open_index(session, write=True) as index:
        done = index.sync(desk, rebuild=rebuild, progress=progress, total=total)
        return done, index.status()


def index_status(session: Session) -> IndexStatus:
    with open_index(session, write=False) as index:
        return index.status()


def find_duplicates(
    session: Session, *, merge: Callable[[list[DuplicateGroup]], bool] | None = None
) -> tuple[list[DuplicateGroup], list[MergeOutcome]]:
    """Refresh the index, list the groups of contacts sharing a number and, when ``merge``
    approves the groups it is shown, merge them."""
    desk = session.desk()
    shared_max = int(session.settings.get("contacts.shared_max"))
    with open_index(session, write=True) as index:
        index.sync(desk)
        groups = duplicate_groups(index, shared_max)
        if merge is None or not any(not g.switchboard for g in groups) or not merge(groups):
            return groups, []
        return groups, merge_groups(desk, index, groups)
