"""The store's threads: one writer, enforced; readers that never wait for each other. And
the relay's managed broker: started means its own Mosquitto runs."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from bulutpop.errors import CannotListen
from bulutpop.storage.store import Store
from bulutpop.team.protocol import Address
from bulutpop.team.relay.broker import BrokerFiles, ManagedBroker
from tests.conftest import free_port


def test_only_the_writer_thread_may_write(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    try:
        with pytest.raises(RuntimeError, match="writer thread"), store.transaction():
            pass
        store.run(store.set_meta, "k", "v")  # handed to the writer: fine
        assert store.meta("k") == "v"
    finally:
        store.close()


def test_a_slow_query_of_one_thread_does_not_hold_up_another(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        # A query that keeps SQLite busy for a while on this thread's connection.
        store.read(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 6000000)"
            " SELECT COUNT(*) FROM n"
        )
        finished.set()

    worker = threading.Thread(target=slow)
    worker.start()
    try:
        assert started.wait(5)
        time.sleep(0.1)  # let the slow query get going: the read below must come during it
        assert store.open_missed_count() == 0  # the UI thread's read, meanwhile
        assert not finished.is_set()  # it did not queue behind the slow one
    finally:
        worker.join()
        store.close()


@pytest.fixture
def broker(tmp_path: Path) -> ManagedBroker:
    files = BrokerFiles(tmp_path / "broker")
    files.write_users([])
    address = Address("127.0.0.1", free_port(), False)
    return ManagedBroker(files.write_config(address), address)


async def test_a_broker_whose_port_is_taken_does_not_pass_for_started(
    broker: ManagedBroker,
) -> None:
    with socket.socket() as taken:  # anything listening there: another broker, another app
        taken.bind((broker.listen.host, broker.listen.port))
        taken.listen()
        with pytest.raises(CannotListen) as info:
            await broker.start()
    assert (info.value.what, info.value.port) == ("broker", broker.listen.port)
    assert broker.process is None


async def test_started_means_this_mosquitto_runs(broker: ManagedBroker, tmp_path: Path) -> None:
    await broker.start()
    try:
        assert broker.process is not None and broker.process.returncode is None
        # A second relay's broker on the same port is refused, not taken for running.
        files = BrokerFiles(tmp_path / "second")
        files.write_users([])
        second = ManagedBroker(files.write_config(broker.listen), broker.listen)
        with pytest.raises(CannotListen):
            await second.start()
        assert broker.process.returncode is None
    finally:
        await broker.stop()
