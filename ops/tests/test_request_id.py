import re
import uuid
from pathlib import Path

import pytest
import structlog

from textclf_ops.request_id import PATTERN, request_id_accept, request_id_bind, request_id_current

NGINX_TEMPLATE = Path(__file__).resolve().parents[2] / "nginx/templates/default.conf.template"


def test_the_rule_is_nginxs():
    """nginx keeps a client's X-Request-ID only if it matches its map's pattern; web and the ML
    API must keep exactly the same ids, or one request would carry two ids in the logs."""
    nginx_map = re.search(
        r"map \$http_x_request_id \$req_id \{\s*\"~\^(.+?)\$\"", NGINX_TEMPLATE.read_text()
    )
    assert nginx_map, "nginx's request-id map is no longer where this test looks"
    assert nginx_map.group(1) == PATTERN.pattern


@pytest.mark.parametrize(
    "incoming", ["0af7651916cd43dd8448eb211c80319c", "nginx-abc.123_x", "A" * 128, "v1.2_x-y"]
)
def test_a_well_formed_id_is_kept(incoming):
    assert request_id_accept(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [None, "", "x" * 129, "has spaces", "<script>", "a\tb", "é", "trace:span", "a\nb", "a;b"],
)
def test_anything_else_is_replaced_by_a_fresh_id(incoming):
    minted = request_id_accept(incoming)
    assert uuid.UUID(hex=minted).hex == minted


def test_binding_starts_a_fresh_log_context():
    structlog.contextvars.bind_contextvars(job_id="left over")

    request_id = request_id_bind(incoming="rid-1")

    assert request_id == "rid-1" == request_id_current()
    assert structlog.contextvars.get_contextvars() == {"request_id": "rid-1"}
    structlog.contextvars.clear_contextvars()
    assert request_id_current() is None
