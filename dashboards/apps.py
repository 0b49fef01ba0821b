from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """The pages that combine the domain, its scores and the network: home, portfolio,
    network-health dashboard, goals and scorecards."""

    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from . import registrations

        registrations.register()
