from django.contrib import admin
from django.db import models

from data.models import Data


@admin.register(Data)
class DataAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "text_preview", "updated_at")
    list_filter = ("label",)
    # ILIKE, which the trigram index answers; the default icontains (UPPER ... LIKE) cannot.
    search_fields = ("text__ilike_contains",)
    ordering = ("-id",)
    show_full_result_count = False
    # Texts are stored exactly as sent; the admin's forms must not strip them either.
    formfield_overrides = {
        models.TextField: {"strip": False},
        models.CharField: {"strip": False},
    }

    @admin.display(description="text")
    def text_preview(self, obj: Data) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:80]}…"
