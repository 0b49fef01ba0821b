from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "networks"

    def ready(self) -> None:
        from . import signals

        signals.connect()
