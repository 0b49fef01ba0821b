"""Lists, filters, the relationship plan, commitment status changes and signing in."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relations.models import AuditEvent, Commitment, Relationship, Tag
from tests.factories import CommitmentFactory, OrganizationFactory, StakeholderFactory


def names_on(response) -> list[str]:
    return [s.name for s in response.context["page"].object_list]


def test_sign_in_with_the_standard_form_and_sign_out(manager):
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html

    bad = client.post(reverse("login"), {"username": "maria", "password": "wrong"})
    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert "_auth_user_id" not in client.session

    good = client.post(reverse("login"), {"username": "maria", "password": "pw"})
    assert good.status_code == 302 and good["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200

    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_pages_send_the_strict_csp_with_a_nonce_on_every_script(manager_client):
    response = manager_client.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert html.count("<script") == html.count(f'nonce="{nonce}"') > 0
    assert " style=" not in html and "<style" not in html


class TestStakeholderList:
    @pytest.fixture
    def people(self, manager, other_manager):
        acme = OrganizationFactory(name="Acme")
        energy = Tag.objects.create(name="energy")
        anna = StakeholderFactory(name="Anna Acme", organization=acme, owner=manager, importance=5)
        anna.tags.add(energy)
        StakeholderFactory(name="Bob Bright", owner=other_manager, importance=2)
        StakeholderFactory(name="Cleo Acme", organization=acme, owner=other_manager, importance=2)
        return {"acme": acme, "energy": energy}

    def test_search_and_each_filter(self, manager_client, manager, people):
        url = reverse("stakeholder-list")
        assert names_on(manager_client.get(url)) == ["Anna Acme", "Bob Bright", "Cleo Acme"]
        assert names_on(manager_client.get(url, {"q": "acme"})) == ["Anna Acme", "Cleo Acme"]
        by_org = manager_client.get(url, {"organization": people["acme"].pk})
        assert names_on(by_org) == ["Anna Acme", "Cleo Acme"]
        assert names_on(manager_client.get(url, {"owner": manager.pk})) == ["Anna Acme"]
        assert names_on(manager_client.get(url, {"importance": 2})) == ["Bob Bright", "Cleo Acme"]
        assert names_on(manager_client.get(url, {"tag": people["energy"].pk})) == ["Anna Acme"]

    def test_bad_filter_values_do_not_fail(self, manager_client, people):
        response = manager_client.get(
            reverse("stakeholder-list"), {"importance": "9", "owner": "x", "page": "zz"}
        )
        assert response.status_code == 200

    def test_htmx_request_gets_only_the_table(self, manager_client, people):
        response = manager_client.get(
            reverse("stakeholder-list"), {"q": "bob"}, headers={"HX-Request": "true"}
        )
        html = response.content.decode()
        assert "Bob Bright" in html and "Anna Acme" not in html
        assert "<html" not in html and 'id="stakeholder-results"' in html

    def test_back_button_restore_gets_the_whole_page(self, manager_client, people):
        response = manager_client.get(
            reverse("stakeholder-list"),
            {"q": "bob"},
            headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
        )
        assert "<html" in response.content.decode()

    def test_pagination_keeps_the_filters(self, manager_client, manager):
        for i in range(30):
            StakeholderFactory(name=f"Person {i:02}", owner=manager)
        page_two = manager_client.get(reverse("stakeholder-list"), {"owner": manager.pk, "page": 2})
        assert names_on(page_two) == [f"Person {i:02}" for i in range(25, 30)]
        assert f"owner={manager.pk}&amp;page=1" in page_two.content.decode()


def test_organization_list_search_and_detail(manager_client):
    acme = OrganizationFactory(name="Acme", sector="Water")
    OrganizationFactory(name="Globex", sector="Energy")
    StakeholderFactory(name="Anna Acme", organization=acme)
    found = manager_client.get(reverse("organization-list"), {"q": "water"})
    assert [o.name for o in found.context["page"].object_list] == ["Acme"]
    assert found.context["page"].object_list[0].stakeholder_count == 1
    detail = manager_client.get(acme.get_absolute_url()).content.decode()
    assert "Anna Acme" in detail


class TestRelationshipPlan:
    @pytest.fixture
    def relationship(self, manager, stakeholder):
        return Relationship.objects.create(user=manager, stakeholder=stakeholder, role="owner")

    def plan(self, **overrides) -> dict:
        return {
            "status": "active",
            "objective": "Co-develop the pilot",
            "desired_strength": "0.8",
            "next_review": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "version": 1,  # the version the page was read at
            **overrides,
        }

    def test_member_saves_the_plan(self, manager_client, relationship):
        response = manager_client.post(relationship.get_absolute_url(), self.plan())
        assert response.status_code == 302
        relationship.refresh_from_db()
        assert relationship.objective == "Co-develop the pilot"
        assert relationship.desired_strength == 0.8
        assert AuditEvent.objects.filter(
            action="update", object_type="relations.relationship"
        ).exists()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"desired_strength": "1.5"}, "desired_strength"),
            ({"next_review": "someday"}, "next_review"),
            ({"status": "married"}, "status"),
        ],
    )
    def test_bad_plan_gives_a_field_error_and_saves_nothing(
        self, manager_client, relationship, overrides, field
    ):
        response = manager_client.post(relationship.get_absolute_url(), self.plan(**overrides))
        assert response.status_code == 200
        assert field in response.context["form"].errors
        relationship.refresh_from_db()
        assert relationship.objective == ""

    def test_others_may_not_change_it(self, manager_client, other_manager, stakeholder, manager):
        # Otto supports Maria's stakeholder: he may read Maria's plan, not change it.
        Relationship.objects.create(user=other_manager, stakeholder=stakeholder)
        marias = Relationship.objects.create(user=manager, stakeholder=stakeholder, role="owner")
        client = Client()
        client.force_login(other_manager)
        assert client.get(marias.get_absolute_url()).status_code == 200
        assert client.post(marias.get_absolute_url(), self.plan()).status_code == 403
        marias.refresh_from_db()
        assert marias.objective == ""


class TestCommitmentStatus:
    @pytest.fixture
    def commitment(self, manager, stakeholder):
        return CommitmentFactory(stakeholder=stakeholder, responsible=manager)

    def url(self, commitment) -> str:
        return reverse("commitment-status", args=[commitment.pk])

    def test_mark_kept_with_htmx_returns_the_row(self, manager_client, commitment):
        response = manager_client.post(
            self.url(commitment), {"status": "kept"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert f'id="commitment-{commitment.pk}"' in response.content.decode()
        commitment.refresh_from_db()
        assert commitment.status == "kept"
        assert commitment.completed_on == timezone.localdate()

    def test_mark_broken_without_javascript_redirects_back(self, manager_client, commitment):
        response = manager_client.post(
            self.url(commitment), {"status": "broken", "next": "/commitments/?show=overdue"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/commitments/?show=overdue"
        commitment.refresh_from_db()
        assert commitment.status == "broken"

    def test_unknown_status_changes_nothing(self, manager_client, commitment):
        response = manager_client.post(
            self.url(commitment), {"status": "forgotten"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 400
        commitment.refresh_from_db()
        assert commitment.status == "open"

    def test_redirect_never_leaves_the_site(self, manager_client, commitment):
        response = manager_client.post(
            self.url(commitment), {"status": "cancelled", "next": "https://evil.example/"}
        )
        assert response["Location"] == "/commitments/"

    def test_who_may_close_it(self, other_client, director_client, commitment, other_manager):
        assert other_client.post(self.url(commitment), {"status": "kept"}).status_code == 404
        # Otto supports the stakeholder: he sees the commitment but may not close it.
        Relationship.objects.create(user=other_manager, stakeholder=commitment.stakeholder)
        assert other_client.post(self.url(commitment), {"status": "kept"}).status_code == 403
        commitment.refresh_from_db()
        assert commitment.status == "open"
        assert director_client.post(self.url(commitment), {"status": "kept"}).status_code == 302
        commitment.refresh_from_db()
        assert commitment.status == "kept"

    def test_get_is_not_allowed(self, manager_client, commitment):
        assert manager_client.get(self.url(commitment)).status_code == 405


def test_my_commitments_tabs(manager_client, manager, stakeholder):
    today = timezone.localdate()
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        description="Late",
        due_date=today - timedelta(days=2),
    )
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        description="Soon",
        due_date=today + timedelta(days=2),
    )
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        description="Done",
        status=Commitment.Status.KEPT,
    )
    url = reverse("commitment-list")

    def descriptions(show: str) -> list[str]:
        page = manager_client.get(url, {"show": show}).context["page"]
        return [c.description for c in page.object_list]

    assert descriptions("open") == ["Late", "Soon"]
    assert descriptions("overdue") == ["Late"]
    assert descriptions("closed") == ["Done"]
    assert manager_client.get(url).context["counts"] == {"open": 2, "overdue": 1}
    assert "commitment-overdue" in manager_client.get(url, {"show": "overdue"}).content.decode()
