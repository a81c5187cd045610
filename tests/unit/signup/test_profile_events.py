"""ProfileUpdated: its document, its validation, the announcer and the relay's handling of it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bff.signup.outbox import MemoryOutbox
from bff.signup.profile_events import ProfileAnnouncer, ProfileUpdated, dedupe_key
from bff.signup.publisher import MemoryPublisher
from bff.signup.relay import Relay


class Kicks:
    def __init__(self) -> None:
        self.count = 0

    def kick(self) -> None:
        self.count += 1


def test_the_document_names_sorted_unique_attributes_and_round_trips() -> None:
    event = ProfileUpdated.new(user_id="00u1", attributes=["title", "company", "title", "bad name!"],
                               source="bff-profile")
    data = event.to_json()
    assert data["attributes"] == ["company", "title"]  # a name that is not one is dropped
    assert (data["eventType"], data["eventVersion"], data["userId"]) == ("ProfileUpdated", 1, "00u1")
    assert ProfileUpdated.from_json(data) == event
    assert event.message_attributes() == {"eventType": "ProfileUpdated", "source": "bff-profile"}
    other = ProfileUpdated.new(user_id="00u1", attributes=["company"], source="bff-signin")
    assert other.eventId != event.eventId  # every change is its own event
    with pytest.raises(ValueError):
        ProfileUpdated.new(user_id="00u1", attributes=[], source="bff-profile")


@pytest.mark.parametrize("change", [
    {"eventType": "AccountCreated"}, {"attributes": []}, {"attributes": ["x y"]}, {"attributes": "company"},
    {"attributes": ["a"] * 33}, {"source": "elsewhere"}, {"userId": ""}, {"eventId": None},
])
def test_malformed_documents_are_refused(change: dict[str, Any]) -> None:
    data = {**ProfileUpdated.new(user_id="00u1", attributes=["company"], source="bff-profile").to_json(),
            **change}
    with pytest.raises(ValueError):
        ProfileUpdated.from_json(data)


async def test_the_announcer_writes_the_outbox_and_the_relay_publishes_it_as_written() -> None:
    outbox, kicks, publisher = MemoryOutbox(), Kicks(), MemoryPublisher()
    announcer = ProfileAnnouncer(outbox, kicks)
    assert await announcer.announce("00u1", {"company": "x", "title": "y"}, "bff-profile")
    assert not await ProfileAnnouncer(outbox, kicks).announce("00u1", [], "bff-profile")  # nothing named
    assert kicks.count == 1
    relay = Relay(outbox, publisher, None, clock=lambda: time.time() + 1)
    assert await relay.drain() == 1
    ((message, attributes),) = publisher.messages
    assert message["attributes"] == ["company", "title"] and attributes["eventType"] == "ProfileUpdated"
    entry = await outbox.get(message["eventId"])
    assert entry is not None and entry.dedupe_key == dedupe_key(message["eventId"]) and entry.status == "sent"


async def test_an_outbox_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(MemoryOutbox):
        async def add(self, **_: Any) -> bool:  # type: ignore[override]
            raise RuntimeError("disk full")

    kicks = Kicks()
    assert not await ProfileAnnouncer(Broken(), kicks).announce("00u1", ["company"], "bff-signin")
    assert kicks.count == 0 and "outbox write failed" in caplog.text


async def test_a_publish_failure_keeps_the_entry_for_a_retry() -> None:
    outbox = MemoryOutbox()
    await ProfileAnnouncer(outbox, Kicks()).announce("00u1", ["company"], "bff-signin")
    relay = Relay(outbox, MemoryPublisher(fail=RuntimeError("down")), None, clock=lambda: time.time() + 1)
    assert await relay.drain() == 0
    assert (await outbox.counts())["pending"] == 1
