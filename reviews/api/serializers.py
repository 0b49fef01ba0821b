from __future__ import annotations

from rest_framework import serializers

from relations.models import Commitment

from ..models import Language, Review, ReviewAnswer, ReviewQuestion


class ReviewQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewQuestion
        fields = [
            "key",
            "position",
            "kind",
            "group",
            "label_en",
            "label_nl",
            "theirs_en",
            "theirs_nl",
            "ours_en",
            "ours_nl",
        ]
        read_only_fields = fields


class ReviewAnswerSerializer(serializers.ModelSerializer):
    question = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = ReviewAnswer
        fields = ["question", "side", "score", "text", "answered_at"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    stakeholder = serializers.IntegerField(source="relationship.stakeholder_id", read_only=True)
    user = serializers.IntegerField(source="relationship.user_id", read_only=True)
    answers = ReviewAnswerSerializer(many=True, read_only=True)
    gaps = serializers.DictField(child=serializers.FloatField(), read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "relationship",
            "stakeholder",
            "user",
            "status",
            "due_on",
            "started_at",
            "ours_answered_at",
            "theirs_answered_at",
            "declined_at",
            "completed_at",
            "gaps",
            "mean_gap",
            "largest_gap_key",
            "largest_gap",
            "answers",
        ]
        read_only_fields = [f for f in fields if f != "relationship"]


class ReviewStartSerializer(serializers.Serializer):
    relationship = serializers.IntegerField(min_value=1, max_value=2**53)


class OurAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        help_text="Question key -> score 1–5 (scale items) or text (the open question).",
    )


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, default="en")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    language = serializers.CharField()
    delivery = serializers.CharField()


class ActionSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    direction = serializers.ChoiceField(choices=Commitment.Direction.choices)
    due_date = serializers.DateField()


class ActionResultSerializer(serializers.Serializer):
    commitment = serializers.IntegerField()
