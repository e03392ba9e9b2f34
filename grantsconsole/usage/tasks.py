"""Celery tasks of the usage evidence: thin entry points, like grants.tasks."""

from __future__ import annotations

import logging

from celery import shared_task

from grantsconsole.okta_clients import usage_client
from grantsconsole.usage import ingest as service

logger = logging.getLogger(__name__)


@shared_task(name="usage.ingest")
def ingest() -> dict[str, object]:
    """Read new System Log events into usage evidence (``usage.ingest.ingest``),
    then delete what is past its retention (``usage.ingest.purge``). An Okta
    error ends the run where the last page left the cursor; the next beat run
    (every ``USAGE_INGEST_EVERY`` seconds) is the retry. Returns the run's
    figures."""
    result = service.ingest(usage_client())
    raw, rollups = service.purge()
    if result.message and not result.skipped_run:
        logger.info("usage ingestion: %s", result.message)
    return {
        "pages": result.pages,
        "recorded": result.recorded,
        "duplicates": result.duplicates,
        "skipped": result.skipped,
        "caught_up": result.caught_up,
        "gap": result.gap is not None,
        "requests": result.requests,
        "message": result.message,
        "purged_raw": raw,
        "purged_rollups": rollups,
    }
