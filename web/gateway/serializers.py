"""The gateway validates with the ML service's own rules, so bad input never crosses the hop."""

from rest_framework import serializers
from textclf_ops.predict_call import EXPLAIN_MAX

from common.serializers import StrictCharField, StrictIntegerField, StrictSerializer
from common.validators import MaxLengthFromSetting
from gateway.converters import VERSION_RE

# A model version's stages (the ML service's); one enum in the OpenAPI schema (ModelStage).
MODEL_STAGES = ("candidate", "production", "archived")


def _text_field() -> StrictCharField:
    return StrictCharField(validators=[MaxLengthFromSetting("TEXT_MAX_LENGTH")])


def _explain_field() -> StrictIntegerField:
    return StrictIntegerField(
        required=False,
        min_value=1,
        max_value=EXPLAIN_MAX,
        help_text="Also list, per prediction, this many terms that weighed most on the "
        "predicted label's decision score, with their weights.",
    )


class PredictInputSerializer(StrictSerializer):
    """Exactly one of {"text": "..."} or {"texts": ["...", ...]} (1..PREDICT_BATCH_MAX)."""

    text = _text_field()
    texts = serializers.ListField(
        child=_text_field(),
        allow_empty=False,
        validators=[MaxLengthFromSetting("PREDICT_BATCH_MAX", unit="elements")],
    )
    explain = _explain_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False
        self.fields["texts"].required = False

    def validate(self, attrs):
        if ("text" in attrs) == ("texts" in attrs):
            raise serializers.ValidationError("Provide exactly one of 'text' or 'texts'.")
        return attrs


class PredictTextInputSerializer(StrictSerializer):
    """For the OpenAPI schema: the single-text form of PredictInputSerializer."""

    text = _text_field()
    explain = _explain_field()


class PredictTextsInputSerializer(StrictSerializer):
    """For the OpenAPI schema: the batch form of PredictInputSerializer."""

    texts = serializers.ListField(child=_text_field(), min_length=1)
    explain = _explain_field()


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: DRF's BooleanField also takes "yes", 1 and "on"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TrainInputSerializer(StrictSerializer):
    force = StrictBooleanField(
        required=False,
        default=False,
        help_text="Train even if the data has not changed since the production model.",
    )


class TrainListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)


# --- What the ML service answers (relayed as-is); for the OpenAPI schema only. ---------------


class TrainQueuedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()


class TrainConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    job_id = serializers.UUIDField(help_text="The job that is already queued or running.")


class TrainingProgressSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(
        ["reading_rows", "fitting", "evaluating", "publishing"],
        help_text="fitting comes once per feature recipe evaluated (done i of n + 1), each "
        "followed by evaluating, then once for the final model on every row (done n of n + 1).",
    )
    done = serializers.IntegerField(
        allow_null=True, help_text="Rows read, or models fitted; null where nothing is counted."
    )
    total = serializers.IntegerField(
        allow_null=True, help_text="Rows to read, or models to fit (recipes + 1); null with done."
    )
    updated_at = serializers.DateTimeField()


class TrainingJobSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(["queued", "running", "succeeded", "failed"])
    error = serializers.CharField(allow_null=True)
    model_version = serializers.CharField(allow_null=True)
    metrics = serializers.DictField(allow_null=True)
    n_samples = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField(help_text="Deliveries so far (a lost worker is retried).")
    stats = serializers.DictField(
        allow_null=True, help_text="Peak RSS and seconds spent reading, fitting and publishing."
    )
    progress = TrainingProgressSerializer(
        allow_null=True,
        help_text="Where the run is, updated about once a second: null until a worker starts "
        "the job; a finished job keeps its last one (where it stopped).",
    )
    outcome = serializers.ChoiceField(
        ["promoted", "candidate", "skipped"],
        allow_null=True,
        help_text="Of a succeeded job: its model was promoted to production, held back as a "
        "candidate by the promotion gate, or the training was skipped (the data had not "
        "changed since the production model, model_version, was trained).",
    )
    note = serializers.CharField(allow_null=True, help_text="Why that outcome.")


class TrainingJobListSerializer(serializers.Serializer):
    results = TrainingJobSerializer(many=True)


class ExplanationTermSerializer(serializers.Serializer):
    term = serializers.CharField(
        help_text='A word or n-gram; with character n-grams, "word__" or "char__" + the term.'
    )
    weight = serializers.FloatField(
        help_text="The term's coefficient for the label x its tf-idf value in this text."
    )


class ExplanationSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The label explained: the predicted one.")
    score = serializers.FloatField(
        help_text="The label's decision score (the linear model's, before its sigmoid "
        "calibration): the sum of every term's weight plus the intercept."
    )
    intercept = serializers.FloatField()
    terms = ExplanationTermSerializer(many=True, help_text="Largest absolute weight first.")
    others_weight = serializers.FloatField(
        help_text="The summed weights of the text's other terms: terms + others_weight = "
        "score - intercept."
    )


class PredictionSerializer(serializers.Serializer):
    label = serializers.CharField(
        allow_null=True,
        help_text="The most probable label; null for an unknown text when the service "
        "refuses those (PREDICT_REFUSE_UNKNOWN).",
    )
    probabilities = serializers.DictField(child=serializers.FloatField())
    known_token_share = serializers.FloatField(
        min_value=0,
        max_value=1,
        help_text="Share of the text's terms (words, n-grams) that are in the model's vocabulary.",
    )
    unknown = serializers.BooleanField(
        help_text="No term of the text is known: the label is the model's prior, not a reading."
    )
    explanation = ExplanationSerializer(required=False, help_text="Only when `explain` is sent.")


class PredictOneSerializer(PredictionSerializer):
    model_version = serializers.CharField()


class PredictManySerializer(serializers.Serializer):
    predictions = PredictionSerializer(many=True)
    model_version = serializers.CharField()


class GateSummarySerializer(serializers.Serializer):
    promote = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    production_version = serializers.CharField(
        allow_null=True, help_text="The production version it was compared with."
    )


class GateSerializer(GateSummarySerializer):
    candidate_f1_macro = serializers.FloatField()
    production_f1_macro = serializers.FloatField(
        allow_null=True,
        help_text="Production's held-out fit on the same evaluation rows (null: none to "
        "compare with, so the minimum applied).",
    )
    recall_drops = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Per label (5+ evaluation rows): production's recall minus the candidate's.",
    )
    rules = serializers.DictField()


class StageChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField()
    from_stage = serializers.CharField(allow_null=True)
    to_stage = serializers.ChoiceField(MODEL_STAGES)
    actor = serializers.CharField(help_text='A user name, or "training job <id>".')
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class StageChangeListSerializer(serializers.Serializer):
    results = StageChangeSerializer(many=True)


class StageChangeQuerySerializer(serializers.Serializer):
    version = serializers.RegexField(VERSION_RE, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)


class StageChangeInputSerializer(StrictSerializer):
    reason = StrictCharField(max_length=500, help_text="Why; kept in the audit record.")


class ShadowLabelSerializer(serializers.Serializer):
    scored = serializers.IntegerField()
    agreed = serializers.IntegerField()
    agreement = serializers.FloatField(allow_null=True)


class ShadowAgreementSerializer(ShadowLabelSerializer):
    production_version = serializers.CharField()
    per_label = serializers.DictField(
        child=ShadowLabelSerializer(), help_text="By the label production answered."
    )


class ModelVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    created_at = serializers.DateTimeField()
    n_samples = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField()
    parameters = serializers.DictField()
    current = serializers.BooleanField()
    stage = serializers.ChoiceField(
        MODEL_STAGES,
        allow_null=True,
        help_text="candidate: trained, not served (waiting, or held back by the promotion "
        "gate); production: the one served (= current); archived: served before, or passed over.",
    )
    gate = GateSummarySerializer(
        allow_null=True,
        help_text="The promotion gate's decision when the version was trained (null for "
        "versions trained before the gate).",
    )


class LabelQualitySerializer(serializers.Serializer):
    precision = serializers.FloatField()
    recall = serializers.FloatField()
    f1 = serializers.FloatField()
    support = serializers.IntegerField(help_text="Evaluation rows of this label.")


class ConfusionMatrixSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField())
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="matrix[i][j]: evaluation rows of labels[i] predicted as labels[j].",
    )


class ModelEvaluationSerializer(serializers.Serializer):
    per_label = serializers.DictField(child=LabelQualitySerializer())
    confusion_matrix = ConfusionMatrixSerializer()


class RecipeCandidateSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(["evaluated", "skipped"])
    f1_macro = serializers.FloatField(required=False)
    accuracy = serializers.FloatField(required=False)
    fit_seconds = serializers.FloatField(required=False)
    reason = serializers.CharField(required=False, help_text="Why it was skipped.")


class RecipeSelectionSerializer(serializers.Serializer):
    selected = serializers.CharField()
    metric = serializers.CharField()
    score = serializers.FloatField()
    budget_seconds = serializers.FloatField(allow_null=True)
    note = serializers.CharField(allow_null=True)
    candidates = RecipeCandidateSerializer(many=True)


class ModelDetailSerializer(ModelVersionSerializer):
    recipes = RecipeSelectionSerializer(
        allow_null=True,
        help_text="The feature recipes evaluated on the same evaluation rows; the best "
        "macro-F1 was refit on every row. Null for versions trained before recipes.",
    )
    evaluation = ModelEvaluationSerializer(
        allow_null=True,
        help_text="Per-label quality on the evaluation rows (a hash of the row id picks "
        "about a quarter of the rows).",
    )
    gate = GateSerializer(allow_null=True)
    stage_changes = StageChangeSerializer(many=True, help_text="Newest first.")
    shadow = ShadowAgreementSerializer(
        many=True,
        help_text="While the version waited as a candidate: how often it agreed with each "
        "production version on sampled live predictions (SHADOW_SHARE), overall and per "
        "production label. Empty for a version never shadow scored.",
    )


class ModelListSerializer(serializers.Serializer):
    current = serializers.CharField(allow_null=True)
    results = ModelVersionSerializer(many=True)


class ModelActivatedSerializer(serializers.Serializer):
    current = serializers.CharField()
