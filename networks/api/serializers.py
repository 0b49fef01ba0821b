from rest_framework import serializers


class HealthSerializer(serializers.Serializer):
    coverage = serializers.FloatField(
        allow_null=True, help_text="Share of key stakeholders with strength ≥ 0.5."
    )
    single_threaded_share = serializers.FloatField(allow_null=True)
    unthreaded_share = serializers.FloatField(allow_null=True)
    mean_trust = serializers.FloatField(allow_null=True)
    mean_reciprocity = serializers.FloatField(allow_null=True)
    investment = serializers.FloatField(allow_null=True)
    ror = serializers.FloatField(allow_null=True)
    at_risk_count = serializers.IntegerField()
    key_stakeholders = serializers.IntegerField()
    health_index = serializers.FloatField(allow_null=True, help_text="0–100.")
    computed_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        # `return` is the contract's field name and a Python keyword.
        fields["return"] = serializers.FloatField(allow_null=True)
        return fields


class HealthPointSerializer(HealthSerializer):
    date = serializers.DateField()


class HealthHistorySerializer(serializers.Serializer):
    scope = serializers.CharField()
    scope_id = serializers.IntegerField(allow_null=True)
    results = HealthPointSerializer(many=True)


class KeyPersonSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    single_threaded = serializers.ListField(child=serializers.IntegerField())


class KeyPersonRiskSerializer(serializers.Serializer):
    users = KeyPersonSerializer(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class PathNodeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "stakeholder"])
    id = serializers.IntegerField()


class IntroPathSerializer(serializers.Serializer):
    strength = serializers.FloatField()
    nodes = PathNodeSerializer(many=True)


class IntroPathsSerializer(serializers.Serializer):
    paths = IntroPathSerializer(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`user-<id>` or `stakeholder-<id>`.")
    type = serializers.ChoiceField(choices=["user", "stakeholder"])
    object_id = serializers.IntegerField()
    label = serializers.CharField()
    importance = serializers.IntegerField(allow_null=True)
    key = serializers.BooleanField()
    community = serializers.IntegerField(allow_null=True)
    betweenness = serializers.FloatField(allow_null=True)
    constraint = serializers.FloatField(allow_null=True)
    url = serializers.CharField()


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    strength = serializers.FloatField()


class GraphSerializer(serializers.Serializer):
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
    truncated = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class GraphQuerySerializer(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1)
    goal = serializers.IntegerField(required=False, min_value=1)
    min_strength = serializers.FloatField(required=False, min_value=0, max_value=1, default=0.05)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=2000, default=500)


class ScopeQuerySerializer(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1)
    goal = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if "team" in attrs and "goal" in attrs:
            raise serializers.ValidationError({"goal": "Give either team or goal, not both."})
        return attrs
