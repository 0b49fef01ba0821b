from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "networks"

    def ready(self) -> None:
        from . import registrations, signals

        signals.connect()
        registrations.register()
