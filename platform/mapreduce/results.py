"""What the pages read of the map-reduce jobs' results: only the rows of each job's
latest succeeded run (mapreduce.runs), in one query each, from the read pool (results
computed an hour ago can be a moment stale)."""

from datetime import date, datetime

from django.db import connections, router

from mapreduce.models import Run
from news import members, stories

# A suggestion followed since the run is left out at once, in the same query.
PEOPLE = """
    SELECT r.finished_at, s.suggested_id, s.mutuals
    FROM (SELECT id, finished_at FROM mapreduce_run
          WHERE job = 'people-you-may-know' AND status = 'succeeded'
          ORDER BY finished_at DESC LIMIT 1) r
    LEFT JOIN mapreduce_suggestedmember s ON s.run_id = r.id AND s.member_id = %(member)s
      AND NOT EXISTS (SELECT 1 FROM news_follow f
                      WHERE f.follower_id = %(member)s AND f.followee_id = s.suggested_id)
    ORDER BY s.rank
"""


def people_you_may_know(member_id: int) -> tuple[list[dict], datetime | None]:
    """The member's suggestions ({"member", "mutuals"}, best first) and when they were
    computed (None: never yet)."""
    with connections[router.db_for_read(Run)].cursor() as cursor:
        cursor.execute(PEOPLE, {"member": member_id})
        rows = cursor.fetchall()
    if not rows:
        return [], None
    computed_at = rows[0][0]
    found = members.get_users([suggested for _, suggested, _ in rows if suggested is not None])
    people = [
        {"member": found[suggested], "mutuals": mutuals}
        for _, suggested, mutuals in rows
        if suggested in found  # a member closed since the run
    ]
    return people, computed_at


HISTORY = """
    WITH r AS (SELECT id, finished_at FROM mapreduce_run
               WHERE job = 'click-history' AND status = 'succeeded'
               ORDER BY finished_at DESC LIMIT 1)
    SELECT 'day', r.finished_at, d.day, d.domain, d.visits, NULL
    FROM r LEFT JOIN mapreduce_domaindayvisits d ON d.run_id = r.id AND d.day >= %(since_day)s
    UNION ALL
    SELECT 'week', r.finished_at, w.week, NULL, w.clicks, w.story_id
    FROM r JOIN mapreduce_weektopstory w ON w.run_id = r.id AND w.week >= %(since_week)s
"""


def click_history(since_day: date, since_week: date) -> dict:
    """Visits per referring domain per day since `since_day`, and each week's most
    clicked stories since `since_week`, as the latest run computed them."""
    with connections[router.db_for_read(Run)].cursor() as cursor:
        cursor.execute(
            HISTORY + " ORDER BY 1, 3, 5 DESC, 4, 6", {"since_day": since_day, "since_week": since_week}
        )
        rows = cursor.fetchall()
    if not rows:
        return {"computed_at": None, "days": [], "weeks": []}
    days = [
        {"day": day, "domain": domain, "visits": visits}
        for kind, _, day, domain, visits, _ in rows
        if kind == "day" and day is not None
    ]
    weekly = [(week, clicks, story) for kind, _, week, _, clicks, story in rows if kind == "week"]
    found = {story["id"]: story for story in stories.get_stories([story for _, _, story in weekly])}
    weeks: dict[date, list[dict]] = {}
    for week, clicks, story in weekly:
        if story in found:  # a story deleted since the run
            weeks.setdefault(week, []).append({"story": found[story], "clicks": clicks})
    return {
        "computed_at": rows[0][1],
        "days": days,
        "weeks": [{"week": week, "stories": top} for week, top in weeks.items()],
    }
