"""The password logins outside DRF (the admin's, the browsable API's), throttled like
/api/auth/token/ before the password is checked."""

import functools
import math

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.throttling import login_wait


def login_throttled(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            wait = login_wait(request)
            if wait is not None:
                seconds = max(math.ceil(wait), 1)
                detail = f"Too many login attempts. Expected available in {seconds} seconds."
                return JsonResponse(
                    {"detail": detail},
                    status=429,
                    headers={"Retry-After": str(seconds)},
                )
        return view(request, *args, **kwargs)

    return wrapped


admin_login = login_throttled(admin.site.login)
api_session_login = login_throttled(LoginView.as_view(template_name="rest_framework/login.html"))
