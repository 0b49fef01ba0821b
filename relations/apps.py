from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationsConfig(AppConfig):
    name = "relations"
    verbose_name = _("Relations")

    def ready(self) -> None:
        from . import record_changes, security

        security.connect_axes_signal()
        record_changes.connect()
