from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and benchmark commands: development and benchmarking only, never in
    production (config.settings_production leaves this app out)."""

    name = "demo"
    verbose_name = "Demo and benchmarks"
