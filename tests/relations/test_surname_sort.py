"""Sorting people by last name without their tussenvoegsel (issue #20): "Jan van den
Berg" under B, "Anne de Vries" under V; the name is shown and searched as typed."""

from __future__ import annotations

import csv
import importlib
import io

import pytest
from django.apps import apps
from django.urls import reverse

from relations.matching import surname_sort_key
from relations.models import Stakeholder
from relations.pages import PAGE_SIZE
from tests.factories import StakeholderFactory

DUTCH_PEOPLE = ["Jan van den Berg", "Anne de Vries", "Vincent van Gogh", "Pieter Aalders"]
BY_LAST_NAME = ["Pieter Aalders", "Jan van den Berg", "Vincent van Gogh", "Anne de Vries"]
BY_NAME = ["Anne de Vries", "Jan van den Berg", "Pieter Aalders", "Vincent van Gogh"]

fill_migration = importlib.import_module("relations.migrations.0019_surname_fill_sort_key")


KEYS = [
    ("Jan van den Berg", "berg jan van den"),
    ("Ludwig van Beethoven", "beethoven ludwig van"),
    ("Vincent van Gogh", "gogh vincent van"),
    ("Anne de Vries", "vries anne de"),
    ("Mark ter Horst", "horst mark ter"),
    ("Pieter 't Hooft", "hooft pieter 't"),
    ("Pieter \u2019t Hooft", "hooft pieter 't"),  # a typographic apostrophe
    ("Hans-Dieter von der Leyen", "leyen hans-dieter von der"),
    ("Leonardo da Vinci", "vinci leonardo da"),
    ("Maria dos Santos", "santos maria dos"),
    ("José de la Cruz", "cruz jose de la"),
    ("Kees van 't Hek", "hek kees van 't"),
    ("Jan in 't Veld", "veld jan in 't"),
    ("Ans op de Beeck", "beeck ans op de"),
    ("Wim uit de Bosch", "bosch wim uit de"),
    ("Jan Peter van den Berg", "berg jan peter van den"),
    ("JAN VAN DEN BERG", "berg jan van den"),
    ("  Jan   van den  Berg ", "berg jan van den"),
    ("Lars Østergaard", "ostergaard lars"),
    ("Ana Silva", "silva ana"),
    # One word, or a particle with no given name before it: as written.
    ("Madonna", "madonna"),
    ("De Smet", "de smet"),
    ("Van der Berg", "van der berg"),
    # "In" alone is no particle: "in 't", "op de", "uit de" are.
    ("Jan In Berg", "berg jan in"),
    # The surname is before a suffix; the suffix comes last.
    ("Martin Luther King Jr.", "king martin luther jr."),
    ("John Smith Sr", "smith john sr"),
    ("Henry Ford II", "ford henry ii"),
    ("Thurston Howell III", "howell thurston iii"),
    ("Jan de Vries, PhD", "vries jan de phd"),
    ("Smith Jr.", "smith jr."),
    # Family name first, before a comma.
    ("Berg, Jan van den", "berg jan van den"),
    ("van den Berg, Jan", "berg jan van den"),
    # Other scripts: kept, folded; Chinese, Japanese, Korean names as written.
    ("Γιώργος Παπαδόπουλος", "παπαδοπουλοσ γιωργοσ"),
    ("Фёдор Достоевский", "достоевскии федор"),
    ("山田 太郎", "山田 太郎"),
    ("김 민준", "김 민준"),
    ("", ""),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_surname_sort_key(name, key):
    assert surname_sort_key(name) == key


def test_dutch_names_sort_by_their_surname():
    assert sorted(DUTCH_PEOPLE, key=surname_sort_key) == BY_LAST_NAME
    # The key puts the surname first, where sorting by the name as typed does not.
    assert sorted(DUTCH_PEOPLE) == BY_NAME


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_the_migration_fills_with_the_same_key(name, key):
    assert fill_migration.surname_sort_key(name) == key


@pytest.mark.django_db
def test_every_writer_keeps_the_surname_key():
    jan = StakeholderFactory(name="Jan van den Berg")
    assert jan.surname_key == "berg jan van den"
    jan.name = "Jan van der Berg"
    jan.save(update_fields=["name"])
    jan.refresh_from_db()
    assert jan.surname_key == "berg jan van der"
    Stakeholder.objects.filter(pk=jan.pk).update(name="Anne de Vries")
    jan.refresh_from_db()
    assert jan.surname_key == "vries anne de"
    jan.name = "Vincent van Gogh"
    Stakeholder.objects.bulk_update([jan], ["name"])
    jan.refresh_from_db()
    assert jan.surname_key == "gogh vincent van"
    [made] = Stakeholder.objects.bulk_create([Stakeholder(name="Mark ter Horst", cadence_days=30)])
    assert Stakeholder.objects.get(pk=made.pk).surname_key == "horst mark ter"


@pytest.mark.django_db
def test_the_data_migration_fills_existing_rows_in_batches(monkeypatch):
    people = [StakeholderFactory(name=name) for name in [*DUTCH_PEOPLE, "De Smet"]]
    Stakeholder.objects.update(surname_key="")  # as after 0018 on a filled table
    monkeypatch.setattr(fill_migration, "BATCH", 2)
    fill_migration.fill(apps, None)
    keys = dict(Stakeholder.objects.values_list("pk", "surname_key"))
    assert keys == {p.pk: surname_sort_key(p.name) for p in people}
    assert keys[people[0].pk] == "berg jan van den"
    assert keys[people[-1].pk] == "de smet"


@pytest.fixture
def dutch(manager):
    return [StakeholderFactory(name=name, owner=manager) for name in DUTCH_PEOPLE]


def names_on(response) -> list[str]:
    return [s.name for s in response.context["page"].object_list]


def test_the_list_sorts_by_last_name(manager_client, dutch):
    url = reverse("stakeholder-list")
    assert names_on(manager_client.get(url)) == BY_NAME
    page = manager_client.get(url, {"sort": "last_name"})
    assert names_on(page) == BY_LAST_NAME
    html = page.content.decode()
    # A labelled select in the filter form, with the choice kept.
    assert '<label class="form-label" for="id_sort">' in html
    assert '<option value="last_name" selected>' in html
    # The names are shown as typed.
    assert ">Jan van den Berg</a>" in html
    # The htmx fragment sorts the same way.
    partial = manager_client.get(url, {"sort": "last_name"}, headers={"HX-Request": "true"})
    assert names_on(partial) == BY_LAST_NAME
    assert "sort=last_name" in partial.content.decode()  # the export link keeps it


def test_search_keeps_the_tussenvoegsel(manager_client, dutch):
    page = manager_client.get(reverse("stakeholder-list"), {"q": "van den berg"})
    assert names_on(page) == ["Jan van den Berg"]
    page = manager_client.get(reverse("stakeholder-list"), {"q": "de vries", "sort": "last_name"})
    assert names_on(page) == ["Anne de Vries"]


def test_pages_and_the_export_keep_the_sort(manager, manager_client, dutch):
    for n in range(PAGE_SIZE):
        # First by name, last by last name.
        StakeholderFactory(name=f"Aart Zeeman{n:02d}", owner=manager)
    url = reverse("stakeholder-list")
    first = manager_client.get(url, {"sort": "last_name"})
    assert names_on(first)[:4] == BY_LAST_NAME
    html = first.content.decode()
    assert "sort=last_name&amp;page=2" in html or "page=2&amp;sort=last_name" in html
    second = manager_client.get(url, {"sort": "last_name", "page": 2})
    assert names_on(second) == [f"Aart Zeeman{n:02d}" for n in range(PAGE_SIZE - 4, PAGE_SIZE)]
    assert names_on(manager_client.get(url, {"page": 2})) == BY_NAME
    export = manager_client.get(reverse("stakeholder-export"), {"sort": "last_name"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert names[:4] == BY_LAST_NAME
    assert len(names) == PAGE_SIZE + 4


def test_the_api_orders_by_last_name(manager_api, dutch):
    def names(query: str) -> list[str]:
        response = manager_api.get(f"/api/v1/stakeholders/?{query}")
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names("ordering=last_name") == BY_LAST_NAME
    assert names("ordering=-last_name") == BY_LAST_NAME[::-1]
    assert names("ordering=name") == BY_NAME
    # The column itself is not a public name: ignored, the default order stays.
    assert names("ordering=surname_key") == BY_NAME
    row = manager_api.get("/api/v1/stakeholders/?ordering=last_name").json()["results"][1]
    assert row["name"] == "Jan van den Berg"
    assert "surname_key" not in row and "last_name" not in row
    # The API's CSV export takes the same ordering.
    export = manager_api.get("/api/v1/stakeholders/csv/?ordering=last_name")
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert [row[header.index("name")] for row in rows] == BY_LAST_NAME
