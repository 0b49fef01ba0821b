from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("review-questions", views.ReviewQuestionViewSet, basename="review-question")

urlpatterns = router.urls
