"""People you may know, as map-reduce on Spark.

For each member A: the members followed by the people A follows, ranked by their
number of mutual connections (how many of the people A follows follow them), then by
the lower member id; never A, nor whom A already follows. The top N per member are
written back to Postgres, tagged with the run (mapreduce.models.SuggestedMember).

    spark-submit --master spark://spark-master:7077 --jars /usr/share/java/postgresql.jar \\
        --py-files mapreduce.zip mapreduce/spark/people_you_may_know.py --run-id 42

Three rounds of map, shuffle and reduce (suggest() below):
  1. map: each follow A -> B is sent to both its ends (B learns it is followed by A, A
     learns it follows B); shuffle: everything about one member B meets on one reducer;
     reduce: every follower A of B, times every member C that B follows, is one path
     A -> B -> C: emit ((A, C), 1).
  2. reduce by key (A, C): add the paths up, first on each mapper (a combiner), then
     after the shuffle: the mutual connections of A and C. Pairs A already follows go.
  3. map to A; reduce: keep A's top N.
"""

import argparse
import json
import operator
from collections.abc import Iterable, Iterator
from functools import partial

from pyspark import RDD
from pyspark.sql import SparkSession

from mapreduce.spark.postgres import Postgres
from mapreduce.spark.ranking import keep_top, merge_top, ranked

TOP = 10  # suggestions kept per member
TABLE = "mapreduce_suggestedmember"
FOLLOWED_BY, FOLLOWS = 0, 1

# Follows between two active members. A closed account's follows are deleted with it;
# a deactivated member is neither suggested nor suggested to.
FOLLOWS_QUERY = """
    SELECT f.follower_id, f.followee_id
    FROM news_follow f
    JOIN news_user a ON a.id = f.follower_id AND a.is_active
    JOIN news_user b ON b.id = f.followee_id AND b.is_active
"""

Follow = tuple[int, int]  # (follower, followee)


def to_both_ends(follow: Follow) -> Iterator[tuple[int, tuple[int, int]]]:
    """Round 1's map: the follow A -> B, keyed by each of its ends."""
    follower, followee = follow
    yield followee, (FOLLOWED_BY, follower)
    yield follower, (FOLLOWS, followee)


def paths_through(member_and_edges: tuple[int, Iterable[tuple[int, int]]]) -> Iterator[tuple[Follow, int]]:
    """Round 1's reduce: the two-step paths through one member, ((A, C), 1) each."""
    _, edges = member_and_edges
    followers: list[int] = []
    followees: list[int] = []
    for side, other in edges:
        (followers if side == FOLLOWED_BY else followees).append(other)
    for a in followers:
        for c in followees:
            if a != c:  # A -> B -> A: a member is not their own suggestion
                yield (a, c), 1


def suggest(follows: RDD, top: int = TOP) -> RDD:
    """(member, rank, suggested member, mutual connections) rows, rank 1 first."""
    follows = follows.filter(lambda f: f[0] != f[1]).distinct()  # no self-follows, no repeats
    # Round 1: map to both ends, shuffle by member, reduce to paths.
    paths = follows.flatMap(to_both_ends).groupByKey().flatMap(paths_through)
    # Round 2: reduce by (A, C) to the number of mutual connections.
    mutuals = paths.reduceByKey(operator.add)
    new = mutuals.subtractByKey(follows.map(lambda f: (f, None)))
    # Round 3: map to A, keep A's best `top` (most mutuals first, then the lowest id).
    by_member = new.map(lambda pair: (pair[0][0], (-pair[1], pair[0][1])))
    kept = by_member.aggregateByKey([], partial(keep_top, top), partial(merge_top, top))
    return kept.flatMap(ranked)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--run-id", type=int, required=True, help="the mapreduce.models.Run its rows belong to"
    )
    parser.add_argument("--top", type=int, default=TOP, help="suggestions per member")
    parser.add_argument("--partitions", type=int, default=4, help="ranges of members read in parallel")
    parser.add_argument(
        "--follows-query", default=FOLLOWS_QUERY, help="SQL giving (follower_id, followee_id)"
    )
    parser.add_argument("--table", default=TABLE, help="where the rows go")
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName(f"people-you-may-know (run {args.run_id})").getOrCreate()
    postgres = Postgres.from_env()
    follows = postgres.read(spark, args.follows_query, "follower_id", args.partitions).rdd.map(tuple).cache()
    run_id = args.run_id
    rows = suggest(follows, args.top).map(lambda row: (run_id, *row)).cache()
    frame = spark.createDataFrame(
        rows, "run_id long, member_id long, rank int, suggested_id long, mutuals int"
    )
    postgres.append(frame, args.table)
    # The last line of output: what the consumer records of the run.
    print("summary: " + json.dumps({"input_rows": follows.count(), "output_rows": rows.count()}))
    spark.stop()


if __name__ == "__main__":
    main()
