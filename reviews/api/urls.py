from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("reviews", views.ReviewViewSet, basename="api-review")
router.register("review-questions", views.ReviewQuestionViewSet, basename="api-review-question")

urlpatterns = router.urls
