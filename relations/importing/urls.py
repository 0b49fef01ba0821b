from django.urls import path
from django.views.generic import RedirectView

from relations.importing import views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/new/", views.import_new, name="import-new"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/preview/", views.import_preview, name="import-preview"),
    path("imports/<int:pk>/status/", views.import_status, name="import-status"),
    path("imports/<int:pk>/undo/", views.import_undo, name="import-undo"),
    # DESIGN §5a names /import/ as the address users bookmark.
    path("import/", RedirectView.as_view(pattern_name="import-new"), name="import"),
]
