# One queued or running export per member, held by a partial unique index. Members who
# asked for several before there was a limit keep their newest unfinished export; the
# older ones are marked failed first, so that the index can be built.

from django.db import migrations, models

FAIL_OLDER_UNFINISHED = """
UPDATE jobs_export AS older
SET status = 'failed', error = 'Replaced by a newer export.', finished_at = now()
WHERE older.status IN ('queued', 'running')
  AND EXISTS (
    SELECT 1 FROM jobs_export AS newer
    WHERE newer.user_id = older.user_id
      AND newer.status IN ('queued', 'running')
      AND (newer.created_at, newer.id) > (older.created_at, older.id)
  )
"""


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0002_outbox_export'),
    ]

    operations = [
        migrations.RunSQL(FAIL_OLDER_UNFINISHED, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name='export',
            constraint=models.UniqueConstraint(
                condition=models.Q(('status__in', ('queued', 'running'))),
                fields=('user',),
                name='one_export_in_progress_per_member',
            ),
        ),
    ]
