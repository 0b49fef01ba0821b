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
        from . import registrations

        registrations.register()
