"""The app's URLs plus the benchmark's bare views, as `RAPPORT_BENCH_VIEWS=1` serves them."""

from django.urls import include, path

from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [path("bench/", include("demo.bench.urls")), *app_urlpatterns]
