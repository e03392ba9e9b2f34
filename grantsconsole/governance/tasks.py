"""Celery tasks of governance: thin entry points that call one service each."""

from __future__ import annotations

from celery import shared_task

from grantsconsole.governance import delivery, watch


@shared_task(bind=True, name="governance.deliver_alert", max_retries=None)
def deliver_alert(self, delivery_id: int) -> None:
    """Make one attempt of one alert delivery; retry it with Celery's
    exponential backoff while ``delivery.deliver`` says to (it counts the
    attempts, in the delivery row, and records the final failure)."""
    countdown = delivery.deliver(delivery_id)
    if countdown is not None:
        raise self.retry(countdown=countdown, exc=None)


@shared_task(name="governance.watch_worker")
def watch_worker() -> int | None:
    """Alert when no sync has succeeded for too long (``watch.check_worker``);
    returns the alert id, if one was raised."""
    alert = watch.check_worker()
    return alert.pk if alert else None
