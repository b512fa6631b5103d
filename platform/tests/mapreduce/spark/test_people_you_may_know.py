"""The people-you-may-know map-reduce, against an answer computed in plain Python."""

import random
from collections import Counter, defaultdict

import pytest

from mapreduce.spark.people_you_may_know import suggest


def plain_python(follows: list[tuple[int, int]], top: int) -> list[tuple[int, int, int, int]]:
    """The definition, written the obvious way: for each member A, count the members C
    reached through each member B that A follows; never A, nor whom A follows; most
    mutual connections first, then the lowest id."""
    following: dict[int, set[int]] = defaultdict(set)
    for follower, followee in follows:
        if follower != followee:
            following[follower].add(followee)
    rows = []
    for a in sorted(following):
        mutuals: Counter[int] = Counter()
        for b in following[a]:
            for c in following.get(b, ()):
                if c != a and c not in following[a]:
                    mutuals[c] += 1
        best = sorted(mutuals.items(), key=lambda item: (-item[1], item[0]))[:top]
        rows += [(a, rank, c, count) for rank, (c, count) in enumerate(best, start=1)]
    return rows


def run(spark, follows: list[tuple[int, int]], top: int = 10) -> list[tuple[int, int, int, int]]:
    return sorted(suggest(spark.sparkContext.parallelize(follows, 3), top).collect())


def test_members_followed_by_whom_a_member_follows_ranked_by_mutual_connections(spark):
    ada, bob, cy, dee, eve, fay = 1, 2, 3, 4, 5, 6
    follows = [(ada, bob), (ada, cy), (bob, dee), (cy, dee), (bob, eve), (cy, fay), (dee, ada)]
    rows = [row for row in run(spark, follows) if row[0] == ada]
    # dee through bob and cy (2); eve through bob and fay through cy (1 each, lower id first).
    assert rows == [(ada, 1, dee, 2), (ada, 2, eve, 1), (ada, 3, fay, 1)]


def test_never_oneself_nor_whom_one_already_follows_and_a_cycle_is_no_suggestion(spark):
    # ada <-> bob, and bob follows cy, whom ada follows already.
    follows = [(1, 2), (2, 1), (2, 3), (1, 3)]
    # Through bob, ada reaches herself and cy (followed already); bob, through ada, himself and cy.
    assert run(spark, follows) == []


def test_self_follows_and_repeated_follows_are_ignored(spark):
    follows = [(1, 1), (1, 2), (1, 2), (2, 2), (2, 3), (2, 3)]
    assert run(spark, follows) == [(1, 1, 3, 1)]


def test_a_member_who_follows_no_one_or_whose_follows_follow_no_one_gets_no_rows(spark):
    assert run(spark, [(1, 2), (3, 2)]) == []


def test_an_empty_graph_gives_no_rows(spark):
    assert run(spark, []) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_graph_matches_the_plain_python_answer_exactly_ties_included(spark, seed):
    """A skewed graph (a few members followed by most, as the demo world), with
    self-follows, repeats and cycles; top 3 of many equal counts tests the tie order."""
    rng = random.Random(seed)
    members = list(range(1, 81))
    popular = members[:4]
    follows = []
    for member in members:
        if member % 9 == 0:
            continue  # some members follow no one
        targets = [p for p in popular if rng.random() < 0.7] + rng.choices(members, k=rng.randint(0, 8))
        follows += [(member, target) for target in targets]  # may include itself, and repeats
    expected = plain_python(follows, top=3)
    assert len(expected) > 100  # the graph is big enough to mean something
    assert run(spark, follows, top=3) == expected
