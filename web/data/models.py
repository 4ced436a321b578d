from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from common.validators import validate_not_blank

LABEL_MAX_LENGTH = 100


class Data(models.Model):
    """One labelled text: the training corpus of the classifier.

    The algorithm service reads this table directly (`SELECT text, label FROM data ORDER BY
    id`), so its invariants live in the database too, not only in the API's validation.
    """

    text = models.TextField(validators=[validate_not_blank])
    label = models.CharField(max_length=LABEL_MAX_LENGTH, validators=[validate_not_blank])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "data"
        verbose_name = "labelled text"
        indexes = [models.Index(fields=["label"], name="data_label_idx")]
        constraints = [
            # Postgres's \S: at least one non-whitespace character.
            models.CheckConstraint(
                condition=models.Q(text__regex=r"\S"), name="data_text_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(label__regex=r"\S"), name="data_label_not_blank"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("label"), LABEL_MAX_LENGTH),
                name="data_label_max_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"
