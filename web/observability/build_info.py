"""`build_info{version,revision} 1`: which release this process runs.

The values come from the image (`make release` bakes TEXTCLF_VERSION and TEXTCLF_REVISION in
as build arguments), so a dashboard can draw a deploy as the moment the series changes.
"""

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily


def release() -> dict[str, str]:
    return {
        "version": os.environ.get("TEXTCLF_VERSION") or "dev",
        "revision": os.environ.get("TEXTCLF_REVISION") or "unknown",
    }


class BuildInfoCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        info = release()
        family = GaugeMetricFamily(
            "build_info", "1, labelled with the release this process runs.", labels=list(info)
        )
        family.add_metric(list(info.values()), 1)
        yield family


_REGISTRY = CollectorRegistry()
_REGISTRY.register(BuildInfoCollector())


def exposition() -> bytes:
    """Appended to /metrics: a constant, so it stays out of the multiprocess files."""
    return generate_latest(_REGISTRY)
