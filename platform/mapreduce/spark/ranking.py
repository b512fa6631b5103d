"""The reduce step both jobs share: keep the top N of each key, in a defined order."""

import heapq
from collections.abc import Iterable, Iterator
from typing import TypeVar

K = TypeVar("K")

# A candidate as the reducers carry it: (-count, id). Sorting these ascending puts the
# highest count first and, among equal counts, the lowest id first: ties have one order.
Candidate = tuple[int, int]


def keep_top(n: int, kept: list[Candidate], candidate: Candidate) -> list[Candidate]:
    """Fold one candidate into a key's kept list (at most n long, best first)."""
    return heapq.nsmallest(n, [*kept, candidate])


def merge_top(n: int, left: list[Candidate], right: list[Candidate]) -> list[Candidate]:
    """Merge two partitions' kept lists of one key."""
    return heapq.nsmallest(n, [*left, *right])


def ranked(key_and_kept: tuple[K, Iterable[Candidate]]) -> Iterator[tuple[K, int, int, int]]:
    """(key, rank, id, count) rows, rank 1 first."""
    key, kept = key_and_kept
    for rank, (negative_count, ident) in enumerate(kept, start=1):
        yield key, rank, ident, -negative_count
