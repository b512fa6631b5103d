"""The click history, as map-reduce on Spark: over every click ever stored, the visits
per referring domain per day, and the most clicked stories of each week. Written back
to Postgres for the analytics page, tagged with the run (mapreduce.models).

    spark-submit --master spark://spark-master:7077 --jars /usr/share/java/postgresql.jar \\
        --py-files mapreduce.zip mapreduce/spark/click_history.py --run-id 43

Per day and domain: map each click to ((day, domain), 1); shuffle by that key; reduce
by adding. Per week: map each click to ((week, story), 1); reduce by adding; map to
the week and reduce to its top N stories.
"""

import argparse
import json
import operator
from datetime import date, timedelta
from functools import partial

from pyspark import RDD
from pyspark.sql import SparkSession

from mapreduce.spark.postgres import Postgres
from mapreduce.spark.ranking import keep_top, merge_top, ranked

TOP = 10  # stories kept per week
# Days in UTC, as every date the site shows.
CLICKS_QUERY = """
    SELECT id, story_id, referrer_domain AS domain, (created_at AT TIME ZONE 'UTC')::date AS day
    FROM news_click
"""

Click = tuple[int, str, date]  # (story, referring domain, day)


def week_of(day: date) -> date:
    """The Monday that starts the day's week."""
    return day - timedelta(days=day.weekday())


def visits_per_domain_day(clicks: RDD) -> RDD:
    """(day, domain, visits) rows."""
    per_key = clicks.map(lambda click: ((click[2], click[1]), 1)).reduceByKey(operator.add)
    return per_key.map(lambda pair: (*pair[0], pair[1]))


def top_stories_per_week(clicks: RDD, top: int = TOP) -> RDD:
    """(week, rank, story, clicks) rows: most clicks first, then the lowest story id."""
    per_story = clicks.map(lambda click: ((week_of(click[2]), click[0]), 1)).reduceByKey(operator.add)
    by_week = per_story.map(lambda pair: (pair[0][0], (-pair[1], pair[0][1])))
    return by_week.aggregateByKey([], partial(keep_top, top), partial(merge_top, top)).flatMap(ranked)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--run-id", type=int, required=True, help="the mapreduce.models.Run its rows belong to"
    )
    parser.add_argument("--top", type=int, default=TOP, help="stories per week")
    parser.add_argument("--partitions", type=int, default=4, help="ranges of clicks read in parallel")
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName(f"click-history (run {args.run_id})").getOrCreate()
    postgres = Postgres.from_env()
    clicks = (
        postgres.read(spark, CLICKS_QUERY, "id", args.partitions)
        .rdd.map(lambda r: (r[1], r[2], r[3]))
        .cache()
    )
    run_id = args.run_id
    days = visits_per_domain_day(clicks).map(lambda row: (run_id, *row)).cache()
    weeks = top_stories_per_week(clicks, args.top).map(lambda row: (run_id, *row)).cache()
    postgres.append(
        spark.createDataFrame(days, "run_id long, day date, domain string, visits int"),
        "mapreduce_domaindayvisits",
    )
    postgres.append(
        spark.createDataFrame(weeks, "run_id long, week date, rank int, story_id long, clicks int"),
        "mapreduce_weektopstory",
    )
    print(
        "summary: " + json.dumps({"input_rows": clicks.count(), "output_rows": days.count() + weeks.count()})
    )
    spark.stop()


if __name__ == "__main__":
    main()
