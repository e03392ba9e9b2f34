"""Expired sessions are deleted on a schedule (Django never deletes them itself)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from grantsconsole import celery_app
from grantsconsole.accounts import tasks

pytestmark = pytest.mark.django_db


def _session(key: str, expires_in: timedelta) -> None:
    Session.objects.create(
        session_key=key, session_data="", expire_date=timezone.now() + expires_in
    )


def test_beat_clears_expired_sessions_every_hour():
    celery_app.finalize()  # the schedule is set when the app is finalized
    entry = celery_app.conf.beat_schedule["accounts-clear-expired-sessions"]
    assert entry["schedule"] == 3600.0
    assert entry["task"] in celery_app.tasks


def test_the_task_deletes_expired_sessions_and_keeps_live_ones():
    _session("expired0000000000000000000000000", -timedelta(seconds=1))
    _session("live00000000000000000000000000000", timedelta(minutes=30))
    tasks.clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        "live00000000000000000000000000000"
    ]
