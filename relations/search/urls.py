from django.urls import path

from relations.search import views

urlpatterns = [path("search/", views.header_search, name="search")]
