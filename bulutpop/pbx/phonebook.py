"""Names for numbers: the PBX's phonebook, the user's own address books, their own edits.

Every number of a contact is stored under its canonical key (`phone.canonical_key`), so a
name is found however the PBX writes the caller (`0532…`, `90532…`, `+90 532…`). Which name
wins is `Store.names_for`'s rule: the user's edit, then an address book, then the name the
PBX's history gave the caller.

Address books: the PBX's (GET /contacts, all pages, synced on start and daily), CSV files
with a header row (name, company and phone columns found by their headers, English or
Turkish: "Ad", "Soyad", "Şirket", "Telefon", …) and vCard files (read with `vobject`).
Each sync or import replaces that book whole, so deleted contacts go away too.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bulutpop.calls.phone import canonical_key, parse
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import AddressBookError, NumberError, PbxError, RateLimited
from bulutpop.pbx.client import PbxClient
from bulutpop.storage.store import Contact, Store

log = logging.getLogger(__name__)


def _vobject() -> Any:
    """vobject, imported when a vCard is first read (not at start: the app listens sooner).
    It gives its logger a stderr handler of its own; its messages belong in ours
    (redacting, rotating), which they reach by propagation. Its warnings are one per line
    it skips: a hostile file would write millions."""
    import vobject  # type: ignore[import-untyped]

    logging.getLogger("vobject.base").handlers.clear()
    logging.getLogger("vobject.base").setLevel(logging.ERROR)
    return vobject


PBX = "pbx"
CSV = "csv"
VCARD = "vcard"
QUEUES_KEY = "pbx.queues"  # meta: the PBX's queue names, for showing offline too
SYNC_KEY = "phonebook"  # meta: when the PBX's phonebook was last synced
DAY = 86400.0
BACKOFF_START = 300.0
MAX_FILE = 50 * 1024 * 1024  # larger than any address book a PC exports
# Contacts per write transaction: a big book is written in several short ones, so that the
# webhook's events get their commits in between.
WRITE_CHUNK = 1000

_VCARD_SUFFIXES = (".vcf", ".vcard")


# --- reading address books -----------------------------------------------------------------


def _numbers(cells: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(label, number) for every usable number; a cell may hold several."""
    found: dict[str, tuple[str, str]] = {}
    for label, cell in cells:
        for written in re.split(r"\s*(?::::|[;,\n])\s*", cell):
            try:
                key = parse(written).key
            except NumberError:
                continue
            found.setdefault(key, (label, written.strip()))
    return tuple(found.values())


def pbx_contact(item: Mapping[str, str]) -> Contact | None:
    """A /contacts entry, with every phone field (phone, phone1, phone2, fax, …)."""
    name = " ".join(p for p in (item.get("name", "").strip(), item.get("surname", "").strip()) if p)
    company = item.get("company_name", "").strip()
    numbers = _numbers(
        [(k, v) for k, v in item.items() if k.startswith(("phone", "mobile", "gsm", "fax"))]
    )
    if not numbers or not (name or company):
        return None
    return Contact(item.get("id", "") or numbers[0][1], name or company, company, numbers)


def _header(text: str) -> set[str]:
    """A column header as plain lowercase words: "Şirket Adı" -> {"sirket", "adi"}."""
    text = text.replace("ı", "i").replace("İ", "I")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return set(re.findall(r"[a-z0-9]+", text.casefold()))


_IGNORED = {"type", "tur", "turu", "label", "etiket", "title", "unvan", "department"}
# Not "number"/"numara" alone: a customer number of 4 digits would read as an extension.
_PHONE_WORDS = {"tel", "gsm", "cep", "mobile", "mobil", "fax", "faks"}
_COMPANY_WORDS = {"company", "organization", "organisation", "org", "sirket", "firma", "kurum"}
_FULL_NAMES = [
    {"name"},
    {"full", "name"},
    {"display", "name"},
    {"ad", "soyad"},
    {"adi", "soyadi"},
    {"ad", "soyadi"},
    {"isim"},
    {"isim", "soyisim"},
    {"kisi"},
]
_FIRST_NAMES = [{"ad"}, {"adi"}, {"first", "name"}, {"given", "name"}, {"first"}]
_LAST_NAMES = [
    {"soyad"},
    {"soyadi"},
    {"soyisim"},
    {"last", "name"},
    {"surname"},
    {"family", "name"},
    {"last"},
]


@dataclass(frozen=True, slots=True)
class _Columns:
    full: int | None
    first: int | None
    last: int | None
    company: int | None
    phones: tuple[int, ...]


def _columns(headers: Sequence[str], path: str) -> _Columns:
    roles: dict[str, int] = {}
    phones = []
    for index, header in enumerate(headers):
        words = _header(header)
        if not words or words & _IGNORED:
            continue
        if words & _PHONE_WORDS or any(w.startswith(("phone", "telefon")) for w in words):
            phones.append(index)
        elif words & _COMPANY_WORDS:
            roles.setdefault("company", index)
        elif words in _FULL_NAMES:
            roles.setdefault("full", index)
        elif words in _FIRST_NAMES:
            roles.setdefault("first", index)
        elif words in _LAST_NAMES:
            roles.setdefault("last", index)
    if not phones:
        shown = ", ".join(h for h in headers if h.strip())[:200]
        raise AddressBookError(path, "no_phone_column", shown)
    return _Columns(
        roles.get("full"),
        roles.get("first"),
        roles.get("last"),
        roles.get("company"),
        tuple(phones),
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # What Turkish Windows (and Excel on it) writes.
        return data.decode("cp1254", errors="replace")


def read_csv(data: bytes, path: str = "") -> list[Contact]:
    """Contacts from a CSV file with a header row; the delimiter is detected (Excel in
    Turkish locales writes `;`). Raises AddressBookError (about `path`)."""
    text = _decode(data)
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        delimiter, text = first.strip()[4], rest  # Excel's delimiter hint line
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _csv_contacts(rows, path)
    except csv.Error as exc:
        if str(exc).startswith("field larger than field limit"):
            raise AddressBookError(path, "long_field", str(csv.field_size_limit())) from None
        raise AddressBookError(path, "damaged", f"line {rows.line_num}: {exc}") from None


def _csv_contacts(rows: Iterator[list[str]], path: str) -> list[Contact]:
    try:
        headers = next(rows)
    except StopIteration:
        raise AddressBookError(path, "empty") from None
    columns = _columns(headers, path)

    def cell(row: Sequence[str], index: int | None) -> str:
        return row[index].strip() if index is not None and index < len(row) else ""

    contacts = []
    for number, row in enumerate(rows, start=2):
        numbers = _numbers([(headers[i].strip(), cell(row, i)) for i in columns.phones])
        name = cell(row, columns.full) or " ".join(
            p for p in (cell(row, columns.first), cell(row, columns.last)) if p
        )
        company = cell(row, columns.company)
        if numbers and (name or company):
            contacts.append(Contact(f"row {number}", name or company, company, numbers))
    return contacts


def read_vcard(data: bytes, path: str = "") -> list[Contact]:
    """Contacts from a vCard file (2.1, 3.0 or 4.0; one or many cards). Raises
    AddressBookError (about `path`)."""
    vobject = _vobject()
    contacts = []
    try:
        for n, card in enumerate(
            vobject.readComponents(_decode(data), ignoreUnreadable=True, allowQP=True), start=1
        ):
            contact = _card(card, n)
            if contact is not None:
                contacts.append(contact)
    except RecursionError:  # vobject parses a card inside a card by recursion
        raise AddressBookError(path, "deep_nesting") from None
    # LookupError: an unknown CHARSET.
    except (vobject.base.ParseError, ValueError, LookupError) as exc:
        raise AddressBookError(path, "damaged", str(exc)[:200]) from None
    return contacts


def _card(card: Any, n: int) -> Contact | None:  # a vobject Component
    if card.name != "VCARD":
        return None

    def value(name: str) -> Any:  # vobject's values are untyped
        lines = card.contents.get(name)
        return lines[0].value if lines else None

    name = str(value("fn") or "").strip()
    structured = value("n")
    if not name and structured is not None:
        parts = (structured.prefix, structured.given, structured.additional, structured.family)
        name = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    org = value("org")
    company = str(org[0] if isinstance(org, list) and org else org or "").strip()
    tels = [
        (",".join(line.params.get("TYPE", [])).lower(), str(line.value))
        for line in card.contents.get("tel", [])
    ]
    numbers = _numbers(tels)
    if not numbers or not (name or company):
        return None
    return Contact(str(value("uid") or f"card {n}"), name or company, company, numbers)


def read_file(path: Path) -> tuple[str, list[Contact]]:
    """(source, contacts) of a CSV or vCard file, told apart by suffix or content."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise AddressBookError(str(path), "too_large")
        data = path.read_bytes()
    except OSError as exc:
        raise AddressBookError(str(path), "unreadable", exc.strerror or str(exc)) from None
    if path.suffix.lower() in _VCARD_SUFFIXES or data.lstrip()[:11].upper() == b"BEGIN:VCARD":
        return VCARD, read_vcard(data, str(path))
    return CSV, read_csv(data, str(path))


# --- the service ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str  # "csv" | "vcard"
    contacts: int
    numbers: int


@dataclass(frozen=True, slots=True)
class PhoneBookStatus:
    last_sync: float | None = None  # when the PBX's phonebook was last synced
    contacts: int = 0  # contacts it had then
    error: BaseException | None = None  # why the last sync failed


NamesListener = Callable[[], None]


class PhoneBook:
    """Keeps the store's address books up to date; tells listeners when names changed.

    `api` is called for each PBX request (as in `CatchUp`), so a new key is picked up."""

    def __init__(self, tracker: CallTracker, api: Callable[[], PbxClient]) -> None:
        self._tracker = tracker
        self._store = tracker.store
        self._api = api
        self._listeners: list[NamesListener] = []
        # A book is written in several transactions: one book at a time, so that two
        # imports of the same file never mix.
        self._writing = asyncio.Lock()
        saved = _load(self._store.meta(SYNC_KEY))
        self._status = PhoneBookStatus(
            last_sync=float(saved["last_sync"]) if "last_sync" in saved else None,
            contacts=int(saved.get("contacts", 0)),
        )

    @property
    def status(self) -> PhoneBookStatus:
        return self._status

    def subscribe(self, listener: NamesListener) -> Callable[[], None]:
        """Call `listener()` on the loop thread after names may have changed."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a phonebook listener failed")

    def name_for(self, number: str) -> tuple[str, str] | None:
        """(name, company) for a number however written, or a canonical key."""
        return self._store.name_for(canonical_key(number))

    def queue_names(self) -> dict[str, str]:
        """Queue number -> name, as last fetched from the PBX."""
        names = _load(self._store.meta(QUEUES_KEY))
        return {str(k): str(v) for k, v in names.items()}

    async def set_local_name(self, number: str, name: str) -> None:
        """Show `name` for this number from now on; "" goes back to the address books."""
        await self._tracker.run_write(self._write_local, canonical_key(number), name)
        self._changed()

    def _write_local(self, key: str, name: str) -> None:
        with self._store.transaction() as conn:
            Store.set_local_name(conn, key, name)

    async def sync_pbx(self) -> int:
        """Replace the stored PBX phonebook with the PBX's (all pages); returns its size.
        A failure on any page changes nothing."""
        client = self._api()
        contacts: list[Contact] = []
        page, pages = 1, 1
        try:
            while page <= pages:
                reply = await client.contacts(page=page, limit=100)
                contacts.extend(c for item in reply.items if (c := pbx_contact(item)) is not None)
                if not reply.items:
                    break
                page, pages = page + 1, reply.total_pages
        except PbxError as exc:
            self._status = replace(self._status, error=exc)
            raise
        await self._write_book(PBX, "", contacts)
        self._status = PhoneBookStatus(last_sync=time.time(), contacts=len(contacts))
        text = json.dumps({"last_sync": self._status.last_sync, "contacts": len(contacts)})
        await self._tracker.run_write(self._store.set_meta, SYNC_KEY, text)
        self._changed()
        return len(contacts)

    async def sync_queues(self) -> dict[str, str]:
        """Fetch and keep the PBX's queue names."""
        names = await self._api().queues(wait=True)
        text = json.dumps(names, ensure_ascii=False)
        await self._tracker.run_write(self._store.set_meta, QUEUES_KEY, text)
        self._changed()
        return names

    async def import_file(self, path: Path) -> ImportResult:
        """Read a CSV or vCard file into the store; importing it again replaces it.
        Raises AddressBookError."""
        path = await asyncio.to_thread(lambda: path.expanduser().resolve())
        source, contacts = await asyncio.to_thread(read_file, path)
        numbers = await self._write_book(source, str(path), contacts)
        self._changed()
        return ImportResult(source, len(contacts), numbers)

    async def remove_file(self, source: str, origin: str) -> None:
        async with self._writing:
            await self._drop(source, origin, None)
        self._changed()

    async def refresh_files(self) -> int:
        """Import again the files that changed since they were imported; returns how many.
        A file that is gone or unreadable keeps its last import."""
        count = 0
        for book in self._store.contact_sources():
            if book.source == PBX:
                continue
            path = Path(book.origin)
            try:
                if (await asyncio.to_thread(path.stat)).st_mtime <= book.updated_ts:
                    continue
                await self.import_file(path)
                count += 1
            except (OSError, AddressBookError) as exc:
                log.warning("address book %s not refreshed: %s", path.name, exc)
        return count

    async def run_forever(self, interval: float = DAY) -> None:
        """Sync now and every `interval` seconds; a failure is retried sooner (backoff).
        Never raises but CancelledError."""
        failures = 0
        while True:
            delay = interval
            try:
                await self.sync_pbx()
                with contextlib.suppress(PbxError):  # queue names are a nicety
                    await self.sync_queues()
                await self.refresh_files()
                failures = 0
            except Exception as exc:
                failures += 1
                if isinstance(exc, RateLimited):
                    delay = max(exc.retry_after, 1.0)
                else:
                    delay = min(interval, BACKOFF_START * 2 ** (failures - 1))
                self._status = replace(self._status, error=exc)
                log.warning("phonebook sync failed: %s", exc)
            await asyncio.sleep(delay)

    async def _write_book(self, source: str, origin: str, contacts: Sequence[Contact]) -> int:
        """Make `contacts` the whole of one address book, `WRITE_CHUNK` contacts per
        transaction; returns how many numbers it gives names to."""
        async with self._writing:
            stamp = time.time()
            numbers = 0
            for start in range(0, len(contacts), WRITE_CHUNK):
                chunk = contacts[start : start + WRITE_CHUNK]
                numbers += await self._tracker.run_write(self._put, source, origin, chunk, stamp)
            await self._drop(source, origin, stamp)
            return numbers

    async def _drop(self, source: str, origin: str, keep: float | None) -> None:
        while await self._tracker.run_write(self._drop_some, source, origin, keep):
            pass

    def _put(self, source: str, origin: str, contacts: Sequence[Contact], stamp: float) -> int:
        with self._store.transaction() as conn:
            return Store.put_contacts(conn, source, origin, contacts, stamp)

    def _drop_some(self, source: str, origin: str, keep: float | None) -> int:
        with self._store.transaction() as conn:
            return Store.drop_contacts(conn, source, origin, keep, WRITE_CHUNK)


def _load(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
