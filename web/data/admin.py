from django.contrib import admin
from django.db import models

from data.models import Data, Feedback, Source


@admin.register(Data)
class DataAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "text_preview", "source", "verified", "updated_at")
    list_filter = ("source", "verified", "label")
    readonly_fields = ("source", "created_by")
    actions = ("mark_verified",)
    # ILIKE, which the trigram index answers; the default icontains (UPPER ... LIKE) cannot.
    search_fields = ("text__ilike_contains",)
    ordering = ("-id",)
    show_full_result_count = False
    # Texts are stored exactly as sent; the admin's forms must not strip them either.
    formfield_overrides = {
        models.TextField: {"strip": False},
        models.CharField: {"strip": False},
    }

    def save_model(self, request, obj: Data, form, change: bool) -> None:
        if not change:  # typed in by a person, like one POST /api/data/
            obj.source, obj.created_by = Source.ENTERED, request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark as verified (used by TRAIN_VERIFIED_ONLY trainings)")
    def mark_verified(self, request, queryset) -> None:
        updated = queryset.update(verified=True)
        self.message_user(request, f"{updated} rows marked verified.")

    @admin.display(description="text")
    def text_preview(self, obj: Data) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:80]}…"


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("id", "model_version", "predicted_label", "correct", "created_at")
    list_filter = ("correct", "model_version")
    raw_id_fields = ("data",)
    readonly_fields = ("created_by",)
    ordering = ("-id",)
