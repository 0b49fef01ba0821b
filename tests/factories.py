"""factory_boy factories for the domain; tests build exactly what they assert on."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from relations import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@rapport.test")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=extracted or "manager")[0])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Team

    name = factory.Sequence(lambda n: f"Team {n}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    sector = "Energy"
    country = "Netherlands"


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Stakeholder

    name = factory.Faker("name")
    organization = factory.SubFactory(OrganizationFactory)
    title = "Director"
    email = factory.Sequence(lambda n: f"stakeholder{n}@example.org")
    importance = 3
    influence = 3
    interest = 3


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Interaction
        skip_postgeneration_save = True

    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    kind = "meeting"
    subject = factory.Sequence(lambda n: f"Meeting {n}")
    value_given = 2
    value_received = 2
    duration_minutes = 60

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if create and extracted:
            self.internal_participants.set(extracted)

    @factory.post_generation
    def with_stakeholders(self, create, extracted, **kwargs):
        if create and extracted:
            self.stakeholders.set(extracted)


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Commitment

    stakeholder = factory.SubFactory(StakeholderFactory)
    responsible = factory.SubFactory(UserFactory)
    description = factory.Sequence(lambda n: f"Send proposal {n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Outcome

    stakeholder = factory.SubFactory(StakeholderFactory)
    kind = "deal"
    value = 1000


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StrategicGoal

    title = factory.Sequence(lambda n: f"Goal {n}")
    status = "active"
