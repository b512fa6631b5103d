"""news.exports: one export in progress per member, race-safe, and exports that expire
and are deleted with their documents."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Export, OutboxMessage
from news import exports
from news.errors import Conflict, NotFound
from tests.support import member


@pytest.mark.django_db
def test_a_second_export_is_refused_while_the_first_is_unfinished_and_accepted_once_it_finished(author):
    first = exports.request(author.pk)
    with pytest.raises(Conflict, match="An export is already in progress: wait for it to finish."):
        exports.request(author.pk)
    Export.objects.filter(pk=first.pk).update(status=Export.RUNNING)
    with pytest.raises(Conflict):
        exports.request(author.pk)
    assert OutboxMessage.objects.filter(task="jobs.export").count() == 1, "a refusal publishes nothing"

    assert exports.build(str(first.pk)) is True
    second = exports.request(author.pk)
    exports.fail(str(second.pk), "broken")
    assert exports.request(author.pk).status == Export.QUEUED, "a failed export is finished too"
    assert exports.request(member("other").pk).status == Export.QUEUED, "one per member, not one in all"


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_moment_make_one_export(author):
    """The first request's transaction is held open after its insert: the second one
    checks while the first is not yet committed, which a check-then-insert would let
    through. The unique index makes it wait for the first, then refuses it."""
    inserted, release = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def first() -> None:
        try:
            with transaction.atomic():
                exports.request(author.pk)
                inserted.set()
                release.wait(30)
            outcomes.append("accepted")
        finally:
            connection.close()

    def second() -> None:
        try:
            exports.request(author.pk)
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inserted.wait(30)
    threads[1].start()
    try:
        for _ in range(100):  # until the second request waits on the first's lock (up to 10 s)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the second request never waited for the first")
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    assert sorted(outcomes) == ["accepted", "refused"]
    assert Export.objects.filter(user=author).count() == 1


@pytest.mark.django_db
def test_expiry_deletes_exports_past_their_retention_and_keeps_fresh_ones(author, settings):
    settings.EXPORT_RETENTION_HOURS = 24
    now = timezone.now()

    def export(status: str, created_hours_ago: float, finished_hours_ago: float | None) -> Export:
        made = Export.objects.create(user=member(status), status=status, result=b"{}")
        Export.objects.filter(pk=made.pk).update(
            created_at=now - timedelta(hours=created_hours_ago),
            finished_at=None if finished_hours_ago is None else now - timedelta(hours=finished_hours_ago),
        )
        return made

    expired = export(Export.DONE, 30, 25)
    failed_long_ago = export(Export.FAILED, 30, 29)
    stuck = export(Export.RUNNING, 25, None)  # a build that never ended: it stops holding the member
    fresh = export(Export.DONE, 30, 23)  # asked for long ago, finished recently: kept a day from then
    waiting = export(Export.QUEUED, 1, None)

    assert exports.expire(now) == 3
    assert set(Export.objects.values_list("pk", flat=True)) == {fresh.pk, waiting.pk}
    assert not Export.objects.filter(pk__in=[expired.pk, failed_long_ago.pk, stuck.pk]).exists()
    fresh.refresh_from_db()
    assert fresh.expires_at == fresh.finished_at + timedelta(hours=24)
    assert Export.objects.get(pk=waiting.pk).expires_at is None, "not until it is finished"


@pytest.mark.django_db
def test_an_export_past_its_retention_is_gone_before_the_job_deletes_it(author, settings):
    settings.EXPORT_RETENTION_HOURS = 2
    export = exports.request(author.pk)
    exports.build(str(export.pk))
    assert exports.get(export.pk, author.pk).status == Export.DONE
    Export.objects.filter(pk=export.pk).update(finished_at=timezone.now() - timedelta(hours=2, seconds=1))
    for read in (exports.get, exports.document):
        with pytest.raises(NotFound, match="exports are deleted 2 hours after they are ready"):
            read(export.pk, author.pk)


@pytest.mark.django_db
def test_a_failed_export_is_not_built_again(author):
    """A redelivered message of an export that failed for good: the member asked again
    meanwhile, and reviving the old one would make two in progress."""
    export = exports.request(author.pk)
    exports.fail(str(export.pk), "broken")
    assert exports.build(str(export.pk)) is False
    assert Export.objects.get(pk=export.pk).status == Export.FAILED
