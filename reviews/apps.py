from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    """Two-sided relationship reviews: the stakeholder's view of us beside ours, and the
    gap between them (issue 23)."""

    name = "reviews"
    label = "reviews"
    verbose_name = _("Reviews")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import registrations

        registrations.register()
        post_migrate.connect(_questionnaire_seed, sender=self, dispatch_uid="reviews-questions")


def _questionnaire_seed(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from .models import ReviewQuestion
    from .questions import questionnaire_seed

    # Migrated back below the questionnaire's table, or already there: nothing to write.
    if ReviewQuestion._meta.db_table not in connections[using].introspection.table_names():
        return
    if ReviewQuestion.objects.using(using).exists():
        return
    questionnaire_seed(ReviewQuestion)
