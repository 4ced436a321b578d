"""JSON bodies for errors raised outside DRF views (unknown /api/ URLs, crashes, bad hosts).

The admin keeps Django's HTML pages; everything else this service answers is JSON.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def _is_admin(request: HttpRequest) -> bool:
    return request.path.startswith("/admin/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_admin(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is too large (at most {limit} bytes)."
        return JsonResponse({"detail": detail}, status=413)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_admin(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(
        {"detail": "You do not have permission to perform this action."}, status=403
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_admin(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Internal server error."}, status=500)
