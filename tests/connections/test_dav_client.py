"""The WebDAV client (connections.dav) against a real Radicale: discovery, sync-token
changes, the ctag/ETag fallback, multiget, and the failures a user must fix."""

from __future__ import annotations

import pytest

from connections import dav
from connections.errors import AuthenticationFailed, ServerUnreachable
from tests.connections.dav_fixtures import (
    free_port,
    ics,
    radicale_server,  # noqa: F401 (the `radicale` fixture)
    vcf,
)
from tests.realdata import read_realdata, realdata_files


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


def client(server, user="alice", password="secret") -> dav.DavClient:
    return dav.DavClient(base_url=server.base_url, username=user, password=password)


# --- Discovery ----------------------------------------------------------------------------


def test_discovery_from_the_server_address_finds_the_first_calendar_and_address_book(radicale):
    radicale.make_calendar("/alice/work/")
    radicale.make_address_book("/alice/contacts/")
    c = client(radicale)
    assert dav.discover(c, radicale.base_url + "/", dav.CALENDAR) == (
        radicale.base_url + "/alice/work/"
    )
    assert dav.discover(c, radicale.base_url, dav.ADDRESS_BOOK) == (
        radicale.base_url + "/alice/contacts/"
    )


def test_discovery_through_the_well_known_address(radicale):
    radicale.make_calendar("/alice/work/")
    c = client(radicale)
    # Radicale answers /.well-known/caldav with a redirect to its root.
    assert dav.discover(c, radicale.base_url + "/.well-known/caldav", dav.CALENDAR).endswith(
        "/alice/work/"
    )


def test_a_collection_address_is_used_as_given(radicale):
    radicale.make_calendar("/alice/a/")
    radicale.make_calendar("/alice/b/")
    url = radicale.base_url + "/alice/b/"
    assert dav.discover(client(radicale), url, dav.CALENDAR) == url


def test_an_account_without_a_calendar_says_so(radicale):
    radicale.make_address_book("/alice/contacts/")
    with pytest.raises(dav.NoCollection, match="no calendar"):
        dav.discover(client(radicale), radicale.base_url, dav.CALENDAR)


# --- Failures the user must fix -------------------------------------------------------------


def test_a_wrong_password_is_an_authentication_failure(radicale):
    radicale.make_calendar("/alice/work/")
    with pytest.raises(AuthenticationFailed):
        dav.discover(client(radicale, password="wrong"), radicale.base_url, dav.CALENDAR)


def test_a_server_that_does_not_answer_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(ServerUnreachable, match="cannot be reached"):
        dav.discover(dav.DavClient(url, "alice", "secret"), url, dav.CALENDAR)


def test_the_outbound_guard_refuses_loopback_without_the_setting(radicale, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(ServerUnreachable, match="private or local"):
        dav.discover(client(radicale), radicale.base_url, dav.CALENDAR)


def test_an_xml_bomb_is_not_parsed():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><multistatus xmlns="DAV:">&b;</multistatus>'
    )
    with pytest.raises(dav.SyncError, match="document type"):
        dav.parse_multistatus(bomb)


# --- Changes --------------------------------------------------------------------------------


@pytest.mark.parametrize("use_sync_token", [True, False], ids=["sync-token", "ctag-etag"])
def test_changes_since_reports_new_changed_and_deleted_items(radicale, use_sync_token):
    url = radicale.make_calendar("/alice/work/")
    c = client(radicale)
    etag_one = radicale.put("/alice/work/one.ics", ics("one", "20261101T100000Z"))
    radicale.put("/alice/work/two.ics", ics("two", "20261102T100000Z"))

    first = dav.changes_since(c, url, {}, use_sync_token=use_sync_token)
    assert first.method == ("sync-token" if use_sync_token else "etag")
    assert set(first.changed) == {"/alice/work/one.ics", "/alice/work/two.ics"}
    assert first.changed["/alice/work/one.ics"] == etag_one
    assert first.deleted == []
    state = {"sync_token": first.sync_token, "ctag": first.ctag, "etags": dict(first.changed)}

    # Nothing changed: nothing to do (by token, or by the same ctag).
    again = dav.changes_since(c, url, state, use_sync_token=use_sync_token)
    assert again.changed == {} and again.deleted == []

    radicale.put("/alice/work/one.ics", ics("one", "20261103T100000Z", summary="Moved"))
    radicale.delete("/alice/work/two.ics")
    radicale.put("/alice/work/three.ics", ics("three", "20261104T100000Z"))
    later = dav.changes_since(c, url, state, use_sync_token=use_sync_token)
    assert set(later.changed) == {"/alice/work/one.ics", "/alice/work/three.ics"}
    assert later.changed["/alice/work/one.ics"] != etag_one
    assert later.deleted == ["/alice/work/two.ics"]
    if use_sync_token:
        assert later.sync_token != first.sync_token
    else:
        assert later.ctag != first.ctag


def test_a_token_the_server_forgot_gives_a_full_listing(radicale):
    url = radicale.make_calendar("/alice/work/")
    radicale.put("/alice/work/one.ics", ics("one", "20261101T100000Z"))
    etag_two = radicale.put("/alice/work/two.ics", ics("two", "20261102T100000Z"))
    state = {
        "sync_token": "http://radicale.org/ns/sync/forgotten",
        "etags": {"/alice/work/two.ics": etag_two, "/alice/work/gone.ics": '"x"'},
    }
    changes = dav.changes_since(client(radicale), url, state)
    assert changes.full
    # The known, unchanged item is not fetched again; the one no longer listed is gone.
    assert set(changes.changed) == {"/alice/work/one.ics"}
    assert changes.deleted == ["/alice/work/gone.ics"]
    assert changes.sync_token.startswith("http://radicale.org/ns/sync/")


def test_multiget_fetches_calendar_objects_and_cards(radicale):
    cal = radicale.make_calendar("/alice/work/")
    book = radicale.make_address_book("/alice/contacts/")
    radicale.put("/alice/work/one.ics", ics("one", "20261101T100000Z", summary="Budget"))
    radicale.put("/alice/contacts/ann.vcf", vcf("ann", "Ann Lee", email="ann@example.org"))
    c = client(radicale)
    events = dav.multiget(c, cal, ["/alice/work/one.ics", "/alice/work/missing.ics"], dav.CALENDAR)
    assert [e.href for e in events] == ["/alice/work/one.ics"]
    assert b"SUMMARY:Budget" in events[0].data and events[0].etag
    cards = dav.multiget(c, book, ["/alice/contacts/ann.vcf"], dav.ADDRESS_BOOK)
    assert b"FN:Ann Lee" in cards[0].data


def test_hrefs_are_compared_in_one_spelling(radicale):
    # Apple and Google name items after their UID, "@" included; servers encode it or not.
    url = radicale.make_calendar("/alice/work/")
    radicale.put("/alice/work/a%40example.org%20x.ics", ics("a@example.org", "20261101T100000Z"))
    c = client(radicale)
    changes = dav.changes_since(c, url, {})
    assert list(changes.changed) == ["/alice/work/a@example.org%20x.ics"]
    listed = dav.changes_since(c, url, {}, use_sync_token=False)
    assert list(listed.changed) == list(changes.changed)
    [item] = dav.multiget(c, url, list(changes.changed), dav.CALENDAR)
    assert item.href == "/alice/work/a@example.org%20x.ics"
    assert dav.href_path("http://h/alice/work/a%40example.org%20x.ics") == item.href


def test_multiget_in_batches(radicale, monkeypatch):
    monkeypatch.setattr(dav, "MULTIGET_BATCH", 2)
    url = radicale.make_calendar("/alice/work/")
    hrefs = []
    for n in range(5):
        radicale.put(f"/alice/work/e{n}.ics", ics(f"e{n}", "20261101T100000Z"))
        hrefs.append(f"/alice/work/e{n}.ics")
    got = dav.multiget(client(radicale), url, hrefs, dav.CALENDAR)
    assert sorted(i.href for i in got) == hrefs


REAL_ICS = realdata_files("ics", ".ics")
REAL_VCF = realdata_files("vcard", ".vcf")


@pytest.mark.skipif(not REAL_ICS, reason="../shared/realdata is absent")
def test_real_calendar_files_round_trip_through_the_server(radicale):
    url = radicale.make_calendar("/alice/real/")
    stored = {}
    for name in REAL_ICS:
        data = read_realdata("ics", name)
        status, _headers, _body = radicale.request(
            "PUT", f"/alice/real/{name}", data, headers={"Content-Type": "text/calendar"}
        )
        if 200 <= status < 300:
            stored[f"/alice/real/{name}"] = data
    # Radicale refuses a few files (several UIDs in one object); most are stored.
    assert len(stored) >= len(REAL_ICS) // 2
    c = client(radicale)
    changes = dav.changes_since(c, url, {})
    assert set(changes.changed) == set(stored)
    items = dav.multiget(c, url, sorted(changes.changed), dav.CALENDAR)
    assert {i.href for i in items} == set(stored)
    assert all(b"BEGIN:VCALENDAR" in i.data for i in items)


@pytest.mark.skipif(not REAL_VCF, reason="../shared/realdata is absent")
def test_real_vcards_round_trip_through_the_server(radicale):
    url = radicale.make_address_book("/alice/real/")
    stored = set()
    for name in REAL_VCF:
        status, _headers, _body = radicale.request(
            "PUT",
            f"/alice/real/{name}",
            read_realdata("vcard", name),
            headers={"Content-Type": "text/vcard"},
        )
        if 200 <= status < 300:
            stored.add(f"/alice/real/{name}")
    assert stored
    c = client(radicale)
    changes = dav.changes_since(c, url, {}, use_sync_token=False)
    assert set(changes.changed) == stored
    items = dav.multiget(c, url, sorted(stored), dav.ADDRESS_BOOK)
    assert all(b"BEGIN:VCARD" in i.data.upper() for i in items)
