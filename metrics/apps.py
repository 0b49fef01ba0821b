from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from . import registrations, signals

        signals.connect()
        registrations.register()
