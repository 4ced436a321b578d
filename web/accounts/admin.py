from django.contrib import admin
from rest_framework.authtoken.admin import TokenAdmin  # noqa: F401 - registers TokenProxy
from rest_framework.authtoken.models import TokenProxy

from accounts.models import ApiToken

# DRF's plaintext tokens are no longer used (accounts.ApiToken replaced them).
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """View and revoke tokens; new ones come from the API or `manage.py create_api_token`,
    which show the key once."""

    list_display = ("id", "name", "user", "created", "expiry")
    list_filter = ("user",)
    search_fields = ("name", "user__username")
    fields = ("name", "user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
