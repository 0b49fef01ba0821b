"""The questionnaire as data: ten scored items and one open question (reviews.questions)."""

from django.db import migrations


def questions_seed(apps, schema_editor):
    from reviews.questions import questionnaire_seed

    questionnaire_seed(apps.get_model("reviews", "ReviewQuestion"))


def questions_remove(apps, schema_editor):
    apps.get_model("reviews", "ReviewQuestion").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_reviews_initial")]

    operations = [migrations.RunPython(questions_seed, questions_remove)]
