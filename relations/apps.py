from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationsConfig(AppConfig):
    name = "relations"
    verbose_name = _("Relations")

    def ready(self) -> None:
        from relations import signals

        signals.connect()

        from django.db.backends.signals import connection_created

        from relations.search.matching import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="rapport_fold")
