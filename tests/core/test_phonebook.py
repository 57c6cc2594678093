"""Caller names: the PBX's phonebook over real HTTP, CSV and vCard files, the user's edits."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulutpop.calls.events import CallEvent
from bulutpop.calls.phone import canonical_key
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import AddressBookError, KeyRefused, PbxFailed
from bulutpop.pbx.client import PbxClient
from bulutpop.pbx.phonebook import PhoneBook, read_csv
from bulutpop.storage.store import Store
from tests.conftest import TEST_KEY
from tests.core.conftest import FakePbx, Server, events, feed, run_cli
from tests.core.teamrig import event

MOBILE = "+905321234567"  # scenario 02's caller, written 05321234567 by the PBX


@pytest.fixture
async def client(fake_pbx: FakePbx) -> AsyncIterator[PbxClient]:
    async with PbxClient(fake_pbx[1], TEST_KEY) as c:
        yield c


@pytest.fixture
def book(tracker: CallTracker, client: PbxClient) -> PhoneBook:
    return PhoneBook(tracker, lambda: client)


def entry(n: int, **fields: str) -> dict[str, object]:
    return {"id": n, "name": f"Kişi{n}", "surname": "", "company_name": "", **fields}


# --- the PBX's phonebook -------------------------------------------------------------------


async def test_names_appear_however_the_number_is_written(
    fake_pbx: FakePbx, book: PhoneBook, tracker: CallTracker, store: Store
) -> None:
    state, _ = fake_pbx
    # The phonebook writes the API's format; the webhook sends the national one.
    state.contacts = [
        entry(7, name="Ayşe", surname="Yılmaz", company_name="Örnek A.Ş.", phone="905321234567"),
        entry(8, name="Can", phone="", phone1="0 (212) 320 50 62", fax="02123205063"),
    ]
    assert await book.sync_pbx() == 2
    feed(tracker, "02")
    (call,) = store.calls()
    assert call.party == "05321234567"
    assert store.name_for(call.party_key) == ("Ayşe Yılmaz", "Örnek A.Ş.")
    for written in ("0532 123 45 67", "+90 532 123 45 67", "905321234567", "tel:+905321234567"):
        assert book.name_for(written) == ("Ayşe Yılmaz", "Örnek A.Ş."), written
    assert book.name_for("02123205062") == ("Can", "")  # phone1, not phone
    assert book.name_for("02123205063") == ("Can", "")  # every phone field counts
    assert book.name_for("05559999999") is None
    assert book.status.contacts == 2 and book.status.last_sync is not None


async def test_sync_reads_every_page_and_forgets_deleted_contacts(
    fake_pbx: FakePbx, book: PhoneBook, store: Store
) -> None:
    state, _ = fake_pbx
    state.contacts = [entry(n, phone=f"0532{n:07d}") for n in range(1, 251)]
    assert await book.sync_pbx() == 250
    assert [q["page"] for q in state.received["contacts"]] == ["1", "2", "3"]
    assert store.name_for(canonical_key("05320000250")) == ("Kişi250", "")
    state.contacts = state.contacts[:10]
    await book.sync_pbx()
    assert store.name_for(canonical_key("05320000250")) is None
    assert store.name_for(canonical_key("05320000010")) == ("Kişi10", "")


async def test_a_failed_page_keeps_the_previous_phonebook(
    fake_pbx: FakePbx, book: PhoneBook, store: Store
) -> None:
    state, _ = fake_pbx
    state.contacts = [entry(n, phone=f"0532{n:07d}") for n in range(1, 151)]
    await book.sync_pbx()
    state.fail_request("contacts", 4, 500, "backend down")  # page 2 of the second sync
    state.contacts = [entry(n, phone=f"0533{n:07d}") for n in range(1, 151)]
    with pytest.raises(PbxFailed):
        await book.sync_pbx()
    assert store.name_for(canonical_key("05320000001")) == ("Kişi1", "")
    assert isinstance(book.status.error, PbxFailed) and "backend down" in book.status.error.detail


async def test_invalid_key_answers_401_and_is_not_shown(
    fake_pbx: FakePbx, tracker: CallTracker
) -> None:
    wrong = "K99999999-9999-9999-9999-999999999999"
    async with PbxClient(fake_pbx[1], wrong) as bad:
        with pytest.raises(KeyRefused) as info:
            await PhoneBook(tracker, lambda: bad).sync_pbx()
    assert info.value.status == 401 and wrong not in str(info.value) + info.value.detail


async def test_local_edit_beats_the_phonebook_which_beats_the_history(
    fake_pbx: FakePbx, book: PhoneBook, tracker: CallTracker, store: Store
) -> None:
    hangup = dict(events("02")[-1].fields, event_type="cdr", caller_id_name="ARAYAN")
    tracker.ingest_sync(CallEvent(hangup), None, "history")
    assert store.name_for(MOBILE) == ("ARAYAN", "")  # only the history knows a name
    fake_pbx[0].contacts = [entry(1, name="Ayşe", company_name="Örnek", phone="05321234567")]
    await book.sync_pbx()
    assert store.name_for(MOBILE) == ("Ayşe", "Örnek")
    changed: list[None] = []
    book.subscribe(lambda: changed.append(None))
    await book.set_local_name("0532 123 45 67", "Ayşe Hanım (muhasebe)")
    assert store.name_for(MOBILE) == ("Ayşe Hanım (muhasebe)", "Örnek")
    assert changed == [None]
    await book.set_local_name(MOBILE, "")
    assert store.name_for(MOBILE) == ("Ayşe", "Örnek")


async def test_names_for_a_page_of_keys(fake_pbx: FakePbx, book: PhoneBook, store: Store) -> None:
    fake_pbx[0].contacts = [entry(n, phone=f"0532{n:07d}") for n in range(1, 700)]
    await book.sync_pbx()
    keys = [canonical_key(f"0532{n:07d}") for n in range(1, 800)]
    names = store.names_for(keys)
    assert len(names) == 699 and names[keys[0]] == ("Kişi1", "")
    assert store.keys_named("Kişi69") == [
        canonical_key(f"0532{n:07d}") for n in (69, *range(690, 700))
    ]


async def test_queue_names(fake_pbx: FakePbx, book: PhoneBook) -> None:
    fake_pbx[0].queues = {"200": "Satış", "201": "Destek"}
    assert await book.sync_queues() == {"200": "Satış", "201": "Destek"}
    assert book.queue_names() == {"200": "Satış", "201": "Destek"}


# --- address book files --------------------------------------------------------------------


async def test_csv_with_turkish_headers_from_excel(
    book: PhoneBook, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "rehber.csv"
    text = (
        "Ad;Soyad;Şirket;Cep Telefonu;İş Telefonu;E-posta\r\n"
        "Ayşe;Yılmaz;Örnek A.Ş.;0532 123 45 67;(0212) 320 50 62;a@ornek.com.tr\r\n"
        "Boş;Satır;;;;\r\n"
        "Çağrı;Öztürk;;+90 555 123 45 67, 0216 333 44 55;;\r\n"
    )
    path.write_bytes(text.encode("cp1254"))  # what Excel writes on Turkish Windows
    result = await book.import_file(path)
    assert (result.source, result.contacts, result.numbers) == ("csv", 2, 4)
    assert book.name_for("905321234567") == ("Ayşe Yılmaz", "Örnek A.Ş.")
    assert book.name_for("02123205062") == ("Ayşe Yılmaz", "Örnek A.Ş.")
    assert book.name_for("02163334455") == ("Çağrı Öztürk", "")
    (source,) = store.contact_sources()
    assert (source.source, source.origin, source.contacts) == ("csv", str(path), 2)


def test_csv_header_variants() -> None:
    google = (
        "Name,Given Name,Family Name,Organization 1 - Name,Organization 1 - Title,"
        "Phone 1 - Type,Phone 1 - Value\n"
        "Ali Can,Ali,Can,Acme,Müdür,Mobile,+90 532 111 22 33 ::: 0212 320 50 62\n"
    ).encode()
    (contact,) = read_csv(google)
    assert (contact.name, contact.company) == ("Ali Can", "Acme")
    assert [n for _, n in contact.numbers] == ["+90 532 111 22 33", "0212 320 50 62"]
    outlook = b"First Name,Last Name,Company,Business Phone\r\nDeniz,Kaya,,0850 532 00 00\r\n"
    (contact,) = read_csv(outlook)
    assert (contact.name, contact.numbers) == (
        "Deniz Kaya",
        (("Business Phone", "0850 532 00 00"),),
    )
    company_only = "Firma Adı\tTelefon\nÖrnek Ltd\t4441234\n".encode()
    (contact,) = read_csv(company_only)
    assert (contact.name, contact.company) == ("Örnek Ltd", "Örnek Ltd")
    with pytest.raises(AddressBookError, match="no phone number column"):
        read_csv(b"Name,Email\nAli,a@b.c\n")
    with pytest.raises(AddressBookError):
        read_csv(b"")


async def test_vcard_import_and_refresh(book: PhoneBook, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "contacts.vcf"
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ayşe Yılmaz\r\nN:Yılmaz;Ayşe;;;\r\n"
        "ORG:Örnek A.Ş.;Satış\r\nTEL;TYPE=CELL:0532 123 45 67\r\n"
        "TEL;TYPE=WORK,VOICE:+90 212 320 50 62\r\nUID:abc-1\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=96zt=C3=BCrk;Mehmet;;;\r\n"
        "TEL;CELL:05551234567\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Number\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    result = await book.import_file(path)
    assert (result.source, result.contacts, result.numbers) == ("vcard", 2, 3)
    assert book.name_for("905321234567") == ("Ayşe Yılmaz", "Örnek A.Ş.")
    assert book.name_for("0555 123 45 67") == ("Mehmet Öztürk", "")

    assert await book.refresh_files() == 0  # unchanged since the import
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ayşe Demir\r\nTEL:05321234567\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    os.utime(path, (path.stat().st_mtime + 10,) * 2)
    assert await book.refresh_files() == 1
    assert book.name_for("05321234567") == ("Ayşe Demir", "")
    assert book.name_for("05551234567") is None
    await book.remove_file("vcard", str(path))
    assert store.contact_sources() == []


async def test_cli_contacts_import(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.csv", tmp_path / "b.csv"
    good.write_text("İsim,Telefon\nAyşe,0532 123 45 67\n", encoding="utf-8")
    bad.write_text("İsim,Adres\nAyşe,İstanbul\n", encoding="utf-8")

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bulutpop",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, out, err = await run("contacts", "import", str(good))
    assert code == 0, err
    assert "1 contacts with 1 numbers" in out
    code, _, err = await run("contacts", "import", str(bad))
    assert code == 2 and "no phone number column" in err


# --- hostile address books -----------------------------------------------------------------


def hostile_books(folder: Path) -> dict[str, Path]:
    """Files that are no address books, each made to break a reader: a CSV field over the
    csv module's limit, vCards nested until the parser's recursion gives out, and a vCard
    in a character set no codec knows."""
    books = {
        "long_field": folder / "huge-field.csv",
        "deep_nesting": folder / "nested.vcf",
        "damaged": folder / "charset.vcf",
    }
    books["long_field"].write_bytes(b"Name,Phone\nAli," + b"9" * 200_000 + b"\n")
    books["deep_nesting"].write_bytes(b"BEGIN:VCARD\r\n" * 5000 + b"END:VCARD\r\n" * 5000)
    books["damaged"].write_bytes(
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=utf-99;ENCODING=QUOTED-PRINTABLE:=41\r\n"
        b"TEL:05321234567\r\nEND:VCARD\r\n"
    )
    return books


async def test_hostile_files_are_refused_saying_which_and_why(
    book: PhoneBook, store: Store, tmp_path: Path
) -> None:
    for problem, path in hostile_books(tmp_path).items():
        with pytest.raises(AddressBookError) as refused:
            await book.import_file(path)
        assert (refused.value.path, refused.value.problem) == (str(path), problem)
    assert store.contact_sources() == []


@pytest.mark.slow
def test_the_command_line_refuses_a_hostile_file_in_words(tmp_path: Path) -> None:
    for path in hostile_books(tmp_path).values():
        done = run_cli("contacts", "import", str(path))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"bulutpop: cannot import {path}: "), done.stderr
        assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    huge = run_cli("contacts", "import", str(tmp_path / "huge-field.csv")).stderr
    assert "a field is longer than 131072 characters" in huge


@pytest.mark.slow
async def test_a_big_import_leaves_room_for_the_webhook(
    server: Server, book: PhoneBook, store: Store, tmp_path: Path
) -> None:
    """200,000 contacts go in as many short transactions as it takes: an event the PBX
    posts meanwhile waits for one of them at most, not for the whole book."""
    path = tmp_path / "big.csv"
    rows = (f"Kişi {n};{1000 + n % 9000};{20000 + n % 70000}" for n in range(200_000))
    path.write_text(
        "Ad Soyad;İş Telefonu;Cep Telefonu\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    importing = asyncio.create_task(book.import_file(path))
    loop = asyncio.get_running_loop()
    slowest, posted = 0.0, 0
    while not importing.done():
        started = loop.time()
        status, _ = await server.post(event(f"during-import-{posted}"))
        slowest = max(slowest, loop.time() - started)
        assert status == 200
        posted += 1
        await asyncio.sleep(0.05)
    result = await importing
    assert result.contacts == 200_000
    assert posted > 10 and slowest < 1.0, (posted, slowest)
    assert len(store.calls(limit=posted + 1)) == posted
