"""The questionnaire as data: ten scored items and one open question (reviews.questions)."""

from django.db import migrations


def questions_seed(apps, schema_editor):
    from reviews.questions import OPEN_QUESTION, QUESTIONS

    ReviewQuestion = apps.get_model("reviews", "ReviewQuestion")
    rows = [(*q, "scale") for q in QUESTIONS] + [(*OPEN_QUESTION, "open")]
    for position, row in enumerate(rows, start=1):
        key, group, label_en, label_nl, ours_en, ours_nl, theirs_en, theirs_nl, kind = row
        ReviewQuestion.objects.update_or_create(
            key=key,
            defaults={
                "position": position,
                "group": group,
                "kind": kind,
                "label_en": label_en,
                "label_nl": label_nl,
                "ours_en": ours_en,
                "ours_nl": ours_nl,
                "theirs_en": theirs_en,
                "theirs_nl": theirs_nl,
            },
        )


def questions_remove(apps, schema_editor):
    apps.get_model("reviews", "ReviewQuestion").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_reviews_initial")]

    operations = [migrations.RunPython(questions_seed, questions_remove)]
