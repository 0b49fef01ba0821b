from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationsConfig(AppConfig):
    name = "relations"
    verbose_name = _("Relations")

    def ready(self) -> None:
        from relations import ids, signals  # noqa: F401 (ids registers the bounded id__in lookup)

        signals.connect()
