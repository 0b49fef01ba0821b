from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Sign-in security: second factor, lock-out, API tokens and API authentication."""

    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts import checks, security  # noqa: F401 (checks register themselves)

        security.connect_axes_signal()
