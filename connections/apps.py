from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectionsConfig(AppConfig):
    """Connected accounts: mailboxes, calendars and address books synced by the worker."""

    name = "connections"
    label = "connections"
    verbose_name = _("Connected accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connections import checks  # noqa: F401 (checks register themselves)
        from relations import registry

        # The review queue and waiting items hold people's names and addresses: erasure
        # scrubs them as it scrubs relations' own records.
        registry.personal_data_register("connections")
