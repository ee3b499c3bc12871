"""Candidate data structures for the track queue, behind one tiny interface.

The queue benchmark (``benchmarks.queue_suite``) times the same operations on each candidate so
the numbers compare structures, not API shapes. Every candidate follows the semantics of
``audio.queue.TrackQueue`` but with 0-based indices (TrackQueue shows users 1-based positions):

* ``add`` appends at the back, ``add_next`` inserts at the front;
* ``pop_front`` takes the front item and raises ``IndexError`` when empty;
* ``remove(i)`` takes the item at ``i``; ``move(i, j)`` takes the item at ``i`` and reinserts it so
  that it ends up at index ``j``; both raise ``IndexError`` outside ``0 <= i < len`` (no negative
  indices: a user's position is never counted from the end);
* ``shuffle(rng)`` copies to a list, runs ``rng.shuffle`` and rebuilds, so one seed gives the
  same order in every candidate;
* ``page(k, size)`` returns the items ``[k * size, (k + 1) * size)`` as a tuple (0-based page number).

Why these four: ``collections.deque`` is what ships; ``list`` is the obvious alternative; a doubly
linked list is the textbook queue; :class:`ChunkedList` (the layout behind blist and
sortedcontainers) is the one plausible structure whose middle-of-the-queue operations are not O(n).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class QueueStructure(Protocol[T]):
    """The operations a music-bot queue needs, and nothing else."""

    name: str

    def add(self, item: T) -> None: ...
    def add_next(self, item: T) -> None: ...
    def pop_front(self) -> T: ...
    def remove(self, index: int) -> T: ...
    def move(self, source: int, target: int) -> T: ...
    def shuffle(self, rng: random.Random) -> None: ...
    def page(self, number: int, size: int = 10) -> tuple[T, ...]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T]: ...


def _check_index(index: int, length: int) -> None:
    if not 0 <= index < length:
        raise IndexError(f"index {index} out of range for {length} items")


class DequeQueue(Generic[T]):
    """``collections.deque``: O(1) at both ends; indexing walks 64-item blocks from the nearer end."""

    name = "deque"

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: deque[T] = deque(items)

    def add(self, item: T) -> None:
        self._items.append(item)

    def add_next(self, item: T) -> None:
        self._items.appendleft(item)

    def pop_front(self) -> T:
        return self._items.popleft()

    def remove(self, index: int) -> T:
        _check_index(index, len(self._items))
        item = self._items[index]
        del self._items[index]
        return item

    def move(self, source: int, target: int) -> T:
        _check_index(target, len(self._items))
        item = self.remove(source)
        self._items.insert(target, item)
        return item

    def shuffle(self, rng: random.Random) -> None:
        # rng.shuffle on the deque itself would index the middle n times: O(n^2 / 64).
        items = list(self._items)
        rng.shuffle(items)
        self._items = deque(items)

    def page(self, number: int, size: int = 10) -> tuple[T, ...]:
        start = number * size
        # Indexing hops 64-item blocks from the nearer end; islice would step item by item from
        # the left, about 60 times slower in the middle of a long queue.
        return tuple(self._items[i] for i in range(start, min(start + size, len(self._items))))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


class ListQueue(Generic[T]):
    """``list``: O(1) indexing and slicing, but every front insert or pop shifts all items."""

    name = "list"

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: list[T] = list(items)

    def add(self, item: T) -> None:
        self._items.append(item)

    def add_next(self, item: T) -> None:
        self._items.insert(0, item)

    def pop_front(self) -> T:
        if not self._items:
            raise IndexError("pop from an empty queue")
        return self._items.pop(0)

    def remove(self, index: int) -> T:
        _check_index(index, len(self._items))
        return self._items.pop(index)

    def move(self, source: int, target: int) -> T:
        _check_index(target, len(self._items))
        item = self.remove(source)
        self._items.insert(target, item)
        return item

    def shuffle(self, rng: random.Random) -> None:
        items = list(self._items)
        rng.shuffle(items)
        self._items = items

    def page(self, number: int, size: int = 10) -> tuple[T, ...]:
        start = number * size
        return tuple(self._items[start : start + size])

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


class _Node(Generic[T]):
    __slots__ = ("item", "prev", "next")

    def __init__(self, item: T | None) -> None:
        self.item = item
        self.prev: _Node[T] = self
        self.next: _Node[T] = self


class LinkedListQueue(Generic[T]):
    """A doubly linked list with a sentinel, in pure Python.

    O(1) at both ends like deque, but each item costs a Python object, and reaching index ``i``
    is a Python-level walk (from the nearer end), so the middle is far slower than deque's C walk.
    """

    name = "linked list"

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._head: _Node[T] = _Node(None)
        self._length = 0
        for item in items:
            self.add(item)

    def _insert_before(self, node: _Node[T], item: T) -> None:
        new = _Node(item)
        new.prev = node.prev
        new.next = node
        node.prev.next = new
        node.prev = new
        self._length += 1

    def _unlink(self, node: _Node[T]) -> T:
        node.prev.next = node.next
        node.next.prev = node.prev
        self._length -= 1
        return node.item  # type: ignore[return-value]

    def _node_at(self, index: int) -> _Node[T]:
        if index < self._length // 2:
            node = self._head.next
            for _ in range(index):
                node = node.next
        else:
            node = self._head.prev
            for _ in range(self._length - 1 - index):
                node = node.prev
        return node

    def add(self, item: T) -> None:
        self._insert_before(self._head, item)

    def add_next(self, item: T) -> None:
        self._insert_before(self._head.next, item)

    def pop_front(self) -> T:
        if not self._length:
            raise IndexError("pop from an empty queue")
        return self._unlink(self._head.next)

    def remove(self, index: int) -> T:
        _check_index(index, self._length)
        return self._unlink(self._node_at(index))

    def move(self, source: int, target: int) -> T:
        _check_index(target, self._length)
        item = self.remove(source)
        anchor = self._head if target == self._length else self._node_at(target)
        self._insert_before(anchor, item)
        return item

    def shuffle(self, rng: random.Random) -> None:
        items = list(self)
        rng.shuffle(items)
        self._head = _Node(None)
        self._length = 0
        for item in items:
            self.add(item)

    def page(self, number: int, size: int = 10) -> tuple[T, ...]:
        start = number * size
        if start >= self._length:
            return ()
        node = self._node_at(start)
        out: list[T] = []
        while node is not self._head and len(out) < size:
            out.append(node.item)  # type: ignore[arg-type]
            node = node.next
        return tuple(out)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[T]:
        node = self._head.next
        while node is not self._head:
            yield node.item  # type: ignore[misc]
            node = node.next


class ChunkedList(Generic[T]):
    """A list of short lists (the layout of blist and sortedcontainers), without any sorting.

    A Fenwick tree over the chunk lengths (sortedcontainers calls it the positional index) finds
    index ``i`` in O(log(n / chunk)) steps; then one short-list operation does the work. So the
    middle of the queue costs about as much as its ends, at the price of some bookkeeping on every
    change and a rebuild of the index, O(n / chunk), whenever a chunk splits or empties.
    """

    name = "chunked list"

    def __init__(self, items: Iterable[T] = (), *, chunk_size: int = 1024) -> None:
        if chunk_size < 2:
            raise ValueError("chunk_size must be at least 2")
        self._chunk_size = chunk_size
        self._chunks: list[list[T]] = []
        self._length = 0
        self._tree: list[int] = [0]  # 1-based Fenwick tree of chunk lengths
        self._fill(items)

    def _fill(self, items: Iterable[T]) -> None:
        flat = list(items)
        half = max(1, self._chunk_size // 2)
        self._chunks = [flat[i : i + half] for i in range(0, len(flat), half)]
        self._length = len(flat)
        self._reindex()

    def _reindex(self) -> None:
        tree = [0, *map(len, self._chunks)]
        size = len(tree)
        for i in range(1, size):
            parent = i + (i & -i)
            if parent < size:
                tree[parent] += tree[i]
        self._tree = tree

    def _grew(self, chunk: int, delta: int) -> None:
        tree = self._tree
        i = chunk + 1
        while i < len(tree):
            tree[i] += delta
            i += i & -i

    def _locate(self, index: int) -> tuple[int, int]:
        """(chunk, offset) of ``index``; needs ``0 <= index < len``."""
        tree = self._tree
        chunk = 0
        step = 1 << ((len(tree) - 1).bit_length() - 1)
        while step:
            probe = chunk + step
            if probe < len(tree) and tree[probe] <= index:
                chunk = probe
                index -= tree[probe]
            step >>= 1
        return chunk, index

    def _split_if_full(self, chunk: int) -> None:
        items = self._chunks[chunk]
        if len(items) > self._chunk_size:
            half = len(items) // 2
            self._chunks[chunk : chunk + 1] = [items[:half], items[half:]]
            self._reindex()

    def _take(self, chunk: int, offset: int) -> T:
        items = self._chunks[chunk]
        item = items.pop(offset)
        self._length -= 1
        if items:
            self._grew(chunk, -1)
        else:
            del self._chunks[chunk]
            self._reindex()
        return item

    def _insert(self, index: int, item: T) -> None:
        if not self._chunks:
            self._chunks.append([item])
            self._length += 1
            self._reindex()
            return
        if index >= self._length:
            chunk = len(self._chunks) - 1
            self._chunks[chunk].append(item)
        else:
            chunk, offset = self._locate(index)
            self._chunks[chunk].insert(offset, item)
        self._length += 1
        self._grew(chunk, 1)
        self._split_if_full(chunk)

    def add(self, item: T) -> None:
        self._insert(self._length, item)

    def add_next(self, item: T) -> None:
        self._insert(0, item)

    def pop_front(self) -> T:
        if not self._length:
            raise IndexError("pop from an empty queue")
        return self._take(0, 0)

    def remove(self, index: int) -> T:
        _check_index(index, self._length)
        return self._take(*self._locate(index))

    def move(self, source: int, target: int) -> T:
        _check_index(target, self._length)
        item = self.remove(source)
        self._insert(target, item)
        return item

    def shuffle(self, rng: random.Random) -> None:
        items = list(self)
        rng.shuffle(items)
        self._fill(items)

    def page(self, number: int, size: int = 10) -> tuple[T, ...]:
        start = number * size
        if start >= self._length:
            return ()
        chunk, offset = self._locate(start)
        later = itertools.chain.from_iterable(itertools.islice(self._chunks, chunk + 1, None))
        rest = itertools.chain(self._chunks[chunk][offset:], later)
        return tuple(itertools.islice(rest, size))

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[T]:
        return itertools.chain.from_iterable(self._chunks)


CANDIDATES: tuple[Callable[[Iterable[Any]], QueueStructure[Any]], ...] = (
    DequeQueue,
    ListQueue,
    LinkedListQueue,
    ChunkedList,
)
