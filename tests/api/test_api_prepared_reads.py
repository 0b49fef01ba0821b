"""The hot reads through prepared statements (relations/api/prepared.py, issue #22):
the first page of the stakeholder list, one stakeholder and its scores, asked without
query parameters, must answer exactly as DRF's own path (which any parameter takes),
for each caller, as the data and the caller's role change; on PostgreSQL the
statements are prepared on the server and survive a session that lost them.

Maria (`manager`) owns `stakeholder`; Otto (`other_manager`) has nothing to do with
it; Dana (`director`) sees all.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import StakeholderScore
from relations.api.prepared import ID, Statement
from relations.models import Stakeholder
from relations.roles import DIRECTOR
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only"
)


def same_answer(client, path: str, drf_path: str):
    prepared, plain = client.get(path), client.get(drf_path)
    assert prepared.status_code == plain.status_code
    assert prepared.json() == plain.json()
    return prepared


@pytest.fixture
def scored(stakeholder):
    StakeholderScore.objects.create(
        stakeholder=stakeholder, trust=0.61, strength=0.4, computed_at=timezone.now()
    )
    return stakeholder


@pytest.mark.parametrize("who", ["manager_api", "other_api", "director_api"])
def test_list_first_page_is_drfs(who, request, stakeholder):
    client = request.getfixturevalue(who)
    StakeholderFactory.create_batch(3)
    stakeholder.tags.create(name="board")
    first = same_answer(client, "/api/v1/stakeholders/", "/api/v1/stakeholders/?page=1")
    assert first.json()["count"] == Stakeholder.objects.count() == 4
    assert [row["tags"] for row in first.json()["results"] if row["id"] == stakeholder.pk] == [
        ["board"]
    ]


def test_list_of_more_than_a_page_counts_them_all_and_links_the_next(manager_api):
    StakeholderFactory.create_batch(52)
    body = same_answer(manager_api, "/api/v1/stakeholders/", "/api/v1/stakeholders/?page=1").json()
    assert body["count"] == 52
    assert len(body["results"]) == 50
    assert body["next"].endswith("/api/v1/stakeholders/?page=2")
    assert body["previous"] is None


def test_an_empty_list_is_drfs(manager_api):
    body = same_answer(manager_api, "/api/v1/stakeholders/", "/api/v1/stakeholders/?page=1")
    assert body.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("who", ["manager_api", "other_api", "director_api"])
def test_a_stakeholder_and_its_scores_are_drfs(who, request, scored):
    client = request.getfixturevalue(who)
    base = f"/api/v1/stakeholders/{scored.pk}/"
    same_answer(client, base, base + "?search=")
    same_answer(client, base + "scores/", base + "scores/?x=1")


@pytest.mark.parametrize("path", ["{pk}/", "{pk}/scores/"])
@pytest.mark.parametrize("record", ["999999999", "99999999999999999999", "1.5", "x"])
def test_ids_that_are_no_stakeholder_answer_drfs_404(manager_api, scored, path, record):
    url = "/api/v1/stakeholders/" + path.format(pk=record)
    response = same_answer(manager_api, url, url + "?x=1")
    assert response.status_code == 404


def test_each_read_sees_the_rows_as_they_are_now(manager_api, scored):
    assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/").json()["title"] != "Chair"
    Stakeholder.objects.filter(pk=scored.pk).update(title="Chair")
    StakeholderScore.objects.filter(stakeholder=scored).update(trust=0.2)
    Stakeholder.objects.filter(pk=scored.pk).update(name="Zoe Last")
    StakeholderFactory(name="Aaron First")
    assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/").json()["title"] == "Chair"
    assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/scores/").json()["trust"] == 0.2
    names = [r["name"] for r in manager_api.get("/api/v1/stakeholders/").json()["results"]]
    assert names == ["Aaron First", "Zoe Last"]


def test_one_callers_statement_never_answers_another(manager_api, other_api, scored):
    # Maria owns the stakeholder and sees its scores; Otto, asking right after her in
    # the same process, must not be served her statement.
    assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/scores/").status_code == 200
    assert other_api.get(f"/api/v1/stakeholders/{scored.pk}/scores/").status_code == 404
    assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/scores/").status_code == 200


def test_a_role_given_is_seen_by_the_next_read(other_manager, other_api, scored):
    url = f"/api/v1/stakeholders/{scored.pk}/scores/"
    assert other_api.get(url).status_code == 404
    other_manager.groups.add(Group.objects.get_or_create(name=DIRECTOR)[0])
    assert other_api.get(url).json()["trust"] == 0.61


def test_the_reads_run_their_usual_queries(manager_api, scored, django_assert_num_queries):
    # The token's query, then one statement per read (the list: its count and its page).
    manager_api.get("/api/v1/stakeholders/")  # prepared here: the next reads as any other
    StakeholderFactory.create_batch(50)
    with django_assert_num_queries(3):
        assert manager_api.get("/api/v1/stakeholders/").status_code == 200
    with django_assert_num_queries(2):
        assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/").status_code == 200
    with django_assert_num_queries(2):
        assert manager_api.get(f"/api/v1/stakeholders/{scored.pk}/scores/").status_code == 200


def test_a_short_list_needs_no_count(manager_api, stakeholder, django_assert_num_queries):
    # Fewer rows than a page: the page's rows are the whole list.
    with django_assert_num_queries(2):
        body = manager_api.get("/api/v1/stakeholders/").json()
    assert body["count"] == 1


# --- Statements on PostgreSQL's sessions -----------------------------------------------


def sent(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@postgresql_only
def test_the_reads_are_prepared_on_the_server_once(manager_api, scored):
    first = sent(manager_api, f"/api/v1/stakeholders/{scored.pk}/")
    assert all(sql.startswith("EXECUTE rapport_") for sql in first), first
    other = StakeholderFactory()
    again = sent(manager_api, f"/api/v1/stakeholders/{other.pk}/")
    # The same two statements, with the other key and id: nothing prepared anew.
    assert [sql.split("(")[0] for sql in again] == [sql.split("(")[0] for sql in first]
    assert again[1].endswith(f"({other.pk})")


@postgresql_only
def test_a_statement_postgresql_refuses_to_prepare_is_sent_as_sql(stakeholder, caplog):
    # `$1 IS NULL` gives the parameter no type: PREPARE fails. The statement still
    # answers, inside a transaction too (the savepoint), which goes on working.
    unknown = Stakeholder.objects.filter(pk=stakeholder.pk).annotate(
        unknown=RawSQL("%s IS NULL", (ID,), output_field=BooleanField())
    )
    statement = Statement(unknown.values_list("unknown"))
    with transaction.atomic():
        assert statement.value(None) is True
        assert statement.value(42) is False
        assert Stakeholder.objects.filter(pk=stakeholder.pk).exists()
    assert "not prepared" in caplog.text


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_prepares_them_again(manager, stakeholder):
    from tests.clients import token_client

    client = token_client(manager)
    assert client.get(f"/api/v1/stakeholders/{stakeholder.pk}/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pool's DISCARD ALL would
    again = sent(client, f"/api/v1/stakeholders/{stakeholder.pk}/")
    assert again[-1].startswith("EXECUTE rapport_")


def test_statements_are_sent_as_sql_when_preparing_is_off(manager_api, scored, settings):
    settings.RAPPORT_PREPARED_STATEMENTS = False
    for sql in sent(manager_api, f"/api/v1/stakeholders/{scored.pk}/"):
        assert sql.startswith("SELECT")


def test_a_statement_needs_a_value_for_each_placeholder(stakeholder):
    statement = Statement(Stakeholder.objects.filter(pk=ID).values_list("name"))
    with pytest.raises(TypeError):
        statement.rows()
    assert statement.rows(stakeholder.pk) == [[stakeholder.name]]


def test_a_statement_of_no_rows_reads_nothing(stakeholder, django_assert_num_queries):
    # `visible_to` of someone who is not staff is `.none()`: nothing to ask the database.
    with django_assert_num_queries(0):
        assert Statement(Stakeholder.objects.none().filter(pk=ID)).objects(stakeholder.pk) == []
        assert Statement.count_of(Stakeholder.objects.none()).value() == 0
    assert Statement.count_of(Stakeholder.objects.all()).value() == 1
