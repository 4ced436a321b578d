from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JSONFallbackNegotiation(DefaultContentNegotiation):
    """An Accept header nothing satisfies gets JSON (the first renderer), not a 406.

    Every client of this API reads JSON; a stray Accept value (a proxy's, a library's
    default) should not turn a valid request into an error.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            renderer = renderers[0]
            return renderer, renderer.media_type
