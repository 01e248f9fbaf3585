"""The local contact index: every Zoho Desk contact's phone and mobile, normalised to E.164,
kept in the ledger's SQLite so that a caller's contact is found without asking Zoho's search.

Zoho holds numbers as free text (``+380 (44) 222-33-44``, ``067-111-22-33``) and its search
may match only the text as sent; it also lags behind writes (docs/zoho-readings.md). A local
index matched with ``phonenumbers`` finds them all, with no request per caller.

* **Build** (``ContactIndex.build``): ``GET /contacts?sortBy=createdTime`` 99 a page (the
  largest ``limit`` Contact.json allows), oldest first so that contacts created meanwhile
  land at the end. Each page is committed with the next ``from`` (meta
  ``contacts.index.build_from``): a build killed half-way resumes where it stopped, and rows
  are keyed by contact id, so nothing is indexed twice.
* **Refresh** (``ContactIndex.refresh``, at the start of every sync): ascending
  ``sortBy=modifiedTime`` from an offset near the end, taken from ``GET /contacts/count``
  (with ``viewId``; the index's own size when the count is refused), stepping back while
  the first record read is still newer than the watermark (meta ``contacts.index.watermark``):
  usually one request. Contact.json documents no ``-`` (descending) form of ``sortBy``
  (docs/zoho-readings.md), so none is asked for.
* Above ``contacts.index_max`` contacts, or when Zoho refuses the listing, the index is not
  used (meta ``contacts.index.mode`` = ``search``) and the caller falls back to searching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ZohoError
from ringodesk_cli.ledger.contact_rows import ContactRow, ContactRows, IndexedContact
from ringodesk_cli.ringostat.phones import to_e164
from ringodesk_cli.zoho.desk import refused
from ringodesk_cli.zoho.paging import rows_of

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger
    from ringodesk_cli.zoho.desk import DeskClient

PAGE = 99  # Contact.json: `limit` on GET /contacts is at most 99
INDEX_MAX = 50_000
# Zoho's modifiedTime and this machine's clock may disagree: a refresh reads back this far.
CLOCK_MARGIN = timedelta(minutes=10)

BUILD_FROM = "contacts.index.build_from"  # next `from` of a build under way
BUILT_AT = "contacts.index.built_at"  # when the last full build finished (UTC)
REFRESHED_AT = "contacts.index.refreshed_at"  # when the last refresh finished (UTC)
WATERMARK = "contacts.index.watermark"  # a refresh stops at a contact modified before this
MODE = "contacts.index.mode"  # "index", or "search" (too many contacts / listing refused)
MODE_REASON = "contacts.index.mode_reason"
FIRST_FROM = "contacts.index.first_from"  # "0", or "1" when Zoho refused from=0


Progress = Callable[[int], None]


@dataclass(frozen=True)
class IndexStatus:
    mode: str  # "index", "search" or "none" (never built)
    contacts: int
    numbers: int  # distinct normalised numbers
    without_number: int
    built_at: str | None
    refreshed_at: str | None
    building: bool  # a build was interrupted and resumes on the next run
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "contacts": self.contacts,
            "numbers_indexed": self.numbers,
            "contacts_without_number": self.without_number,
            "built_at": self.built_at,
            "last_refresh": self.refreshed_at,
            "build_interrupted": self.building,
            "reason": self.reason,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _normal(raw: Any, region: str) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        return to_e164(str(raw), region)
    except ValueError:
        return None


class ContactIndex:
    """The index over one ledger. Read-only use (a dry run) only looks up."""

    def __init__(
        self, ledger: Ledger, region: str, *, index_max: int = INDEX_MAX, clock: Any = _now
    ) -> None:
        self.ledger = ledger
        self.region = region
        self.index_max = index_max
        self.clock = clock
        self.rows = ContactRows(ledger)

    # -- state ---------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        return self.rows.meta(key)

    @property
    def ready(self) -> bool:
        """Built completely, used for look-ups, no build under way."""
        return self._meta(MODE) == "index" and self._meta(BUILD_FROM) is None

    def status(self) -> IndexStatus:
        contacts, without, numbers = self.rows.counts()
        return IndexStatus(
            mode=self._meta(MODE) or "none",
            contacts=int(contacts),
            numbers=int(numbers),
            without_number=int(without),
            built_at=self._meta(BUILT_AT),
            refreshed_at=self._meta(REFRESHED_AT),
            building=self._meta(BUILD_FROM) is not None,
            reason=self._meta(MODE_REASON),
        )

    # -- look-ups ------------------------------------------------------------------------
    def candidates(self, number: str) -> list[IndexedContact]:
        """Every indexed contact whose phone or mobile is ``number`` (E.164), newest first."""
        return self.rows.candidates(number)

    def groups(self) -> list[tuple[str, list[IndexedContact]]]:
        """Numbers shared by several contacts, each with its contacts oldest first."""
        out: dict[str, list[IndexedContact]] = {}
        for number, contact in self.rows.shared():
            out.setdefault(number, []).append(contact)
        return list(out.items())

    # -- writes --------------------------------------------------------------------------
    def add(self, contact: dict[str, Any]) -> None:
        """Index one contact as Zoho answered it (a list row, or a create's answer)."""
        self._upsert([contact])

    def drop(self, contact_id: str) -> None:
        self.rows.drop(contact_id)

    def relink(self, old_ids: list[str], contact_id: str) -> None:
        """The ledger's number links to contacts merged into ``contact_id`` follow it."""
        self.rows.relink(old_ids, contact_id)

    def _upsert(self, contacts: Iterable[dict[str, Any]]) -> int:
        rows: list[ContactRow] = [
            (
                str(c["id"]),
                _normal(c.get("phone"), self.region),
                _normal(c.get("mobile"), self.region),
                str(c.get("modifiedTime") or ""),
                str(c.get("createdTime") or ""),
                c.get("webUrl"),
                " ".join(str(c.get(k) or "") for k in ("firstName", "lastName")).strip(),
            )
            for c in contacts
            if c.get("id") is not None
        ]
        self.rows.upsert(rows)
        return len(rows)

    def _set(self, key: str, value: str | None) -> None:
        self.rows.set(key, value)

    def _search_mode(self, reason: str) -> None:
        self._set(MODE, "search")
        self._set(MODE_REASON, reason)

    # -- build and refresh ---------------------------------------------------------------
    def sync(
        self,
        desk: DeskClient,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        total: Callable[[int], None] | None = None,
    ) -> str:
        """Build the index if it is not built (or resume a build), else refresh it. Answers
        what was done: ``built``, ``refreshed`` or ``search`` (the index is not used)."""
        count = self._count(desk)
        if count is not None and count > self.index_max:
            self._search_mode(f"{count} contacts in Zoho, above contacts.index_max")
            return "search"
        if count is None and self._meta(MODE) == "search" and not rebuild:
            return "search"  # no count to tell whether Zoho shrank: `--rebuild` retries
        if rebuild or self._meta(MODE) != "index" or self._meta(BUILD_FROM) is not None:
            if total is not None and count is not None:
                total(count)
            return self.build(desk, rebuild=rebuild, progress=progress)
        return self.refresh(desk, count)

    def _count(self, desk: DeskClient) -> int | None:
        """``GET /contacts/count`` with ``viewId`` (Contact.json marks it required); a
        refusal means "count unknown" (``DeskClient.contacts_count``)."""
        try:
            return desk.contacts_count()
        except ZohoError as exc:
            if refused(exc):
                return None
            raise

    def build(
        self, desk: DeskClient, *, rebuild: bool = False, progress: Progress | None = None
    ) -> str:
        started = self.clock()
        cursor = self._meta(BUILD_FROM)
        if rebuild or cursor is None:
            self.rows.clear()
            self._set(MODE, "building")
            self._set(BUILD_FROM, "0")
            start = 0
        else:
            start = int(cursor)
            if progress is not None:
                progress(self._size())
        previous: list[str] = []
        while True:
            try:
                rows = self._page(desk, "createdTime", start)
            except ZohoError as exc:
                if not refused(exc):
                    raise  # the build resumes from `start` on the next run
                if start == 0:
                    start = 1  # a server counting `from` from 1 may refuse 0
                    self._set(FIRST_FROM, "1")
                    continue
                self._search_mode(f"Zoho refused listing contacts: {exc}")
                self._set(BUILD_FROM, None)
                return "search"
            if start == 0:
                self._set(FIRST_FROM, "0")
            ids = [str(r.get("id")) for r in rows]
            if not rows or ids == previous:
                break
            self._upsert(rows)
            if self._size() > self.index_max:
                self._set(BUILD_FROM, None)
                self._search_mode("more contacts than contacts.index_max")
                return "search"
            start += len(rows)
            self._set(BUILD_FROM, str(start))  # the page and its cursor in one commit
            if progress is not None:
                progress(len(rows))
            if len(rows) < PAGE:
                break
            previous = ids
        self._finish(started, built=True)
        return "built"

    def refresh(self, desk: DeskClient, count: int | None = None) -> str:
        started = self.clock()
        self._refresh_ascending(desk, self._meta(WATERMARK) or "", count)
        self._finish(started, built=False)
        return "refreshed"

    def _refresh_ascending(self, desk: DeskClient, watermark: str, count: int | None) -> None:
        """The newest are at the end: read from an offset near it, stepping back while the
        first record read is still newer than the watermark."""
        total = count if count is not None else self._size()
        first = int(self._meta(FIRST_FROM) or 0)
        # A page that ends at the last record whether `from` counts from 0 or 1, and is
        # short either way, so that one request suffices when little changed.
        start = max(first, total - PAGE + 2)
        while True:
            rows = self._page(desk, "modifiedTime", start)
            oldest = str(rows[0].get("modifiedTime") or "") if rows else ""
            if start > first and (not rows or oldest >= watermark):
                start = max(first, start - PAGE)
                continue
            break
        while rows:
            self._upsert([r for r in rows if str(r.get("modifiedTime") or "") >= watermark])
            if len(rows) < PAGE:
                return
            start += len(rows)
            rows = self._page(desk, "modifiedTime", start)

    def _page(self, desk: DeskClient, sort: str, start: int) -> list[dict[str, Any]]:
        params = {"sortBy": sort, "from": start, "limit": PAGE}
        return rows_of(desk.request("GET", "/contacts", params=params))

    def _finish(self, started: datetime, *, built: bool) -> None:
        """The next refresh reads everything modified since this one started (less a margin
        for the clocks), or since the newest change seen, whichever is earlier."""
        newest = self.rows.newest_modified()
        mark = _iso(started - CLOCK_MARGIN)
        if newest:
            mark = min(mark, str(newest))
        now = _iso(self.clock())
        self._set(WATERMARK, mark)
        self._set(BUILD_FROM, None)
        self._set(MODE_REASON, None)
        if built:
            self._set(BUILT_AT, now)
        self._set(MODE, "index")
        self._set(REFRESHED_AT, now)

    def _size(self) -> int:
        return self.rows.size()
