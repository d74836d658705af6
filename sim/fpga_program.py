"""FlightLLM's instruction stream: six in-order queues linked by dependency tokens.

The artifact's ISA (``profile/inst_gen/isa.py``) has six opcodes, each executed by its own queue:
LD and ST (HBM <-> on-chip buffers), MM and MV (the MPE's two modes), MISC (the SFU) and SYS
(synchronisation). An instruction may *wait* for tokens from other queues before it starts and
*release* a token to other queues when it ends. Tokens between one pair of queues form a FIFO:
the k-th token a queue releases to another is the k-th that the other consumes.

:class:`Program` records instructions with their duration (seconds, as the mapper priced them) and
explicit producer -> consumer edges, and turns the edges into token counts, checking that every
edge is representable by the FIFO discipline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUEUES = ("LD", "ST", "MM", "MV", "MISC", "SYS")
LD, ST, MM, MV, MISC, SYS = range(6)


@dataclass
class Program:
    """An instruction stream: per instruction its queue, duration, tag and HBM bytes."""

    queue: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    hbm_bytes: list[float] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)  # the operator an instruction belongs to
    edges: list[tuple[int, int]] = field(default_factory=list)  # (producer, consumer)
    # latest producer each (source queue, consumer queue) pair already waits for
    _waited: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    # tokens() of the program as it was at (instructions, edges); add() only appends, so the sizes date it
    _tokens: tuple[int, int, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _operators: tuple[int, list[str], np.ndarray] | None = field(default=None, repr=False)
    _queue: np.ndarray | None = field(default=None, repr=False)

    def add(self, queue: int, seconds: float, tag: str, after: tuple[int, ...] = (),
            hbm_bytes: float = 0.0) -> int:
        """Append an instruction that starts only after the instructions ``after`` have ended.

        An edge another one already implies is dropped: a queue runs in order, so once one of its
        instructions waited for producer p, its later ones need not wait for p or anything before
        p in p's queue. That keeps every queue pair's tokens a FIFO for any dependency graph."""
        queues, waited = self.queue, self._waited
        i = len(queues)
        queues.append(queue)
        self.seconds.append(seconds)
        self.hbm_bytes.append(hbm_bytes)
        self.tag.append(tag)
        for p in (sorted(set(after)) if len(after) > 1 else after):
            src = queues[p]
            if src == queue:  # a queue is in order: same-queue edges are implicit
                continue
            if p <= waited.get((src, queue), -1):
                continue  # implied: an earlier instruction of this queue waited for p or a later one of src
            waited[(src, queue)] = p
            self.edges.append((p, i))
        return i

    def __len__(self) -> int:
        return len(self.queue)

    def operators(self) -> tuple[list[str], np.ndarray]:
        """``(names, code[i])``: the sorted operator names (a tag up to its first dot) and each
        instruction's index into them (computed once per program state)."""
        if self._operators is None or self._operators[0] != len(self.tag):
            names, codes = np.unique(np.asarray([t.split(".")[0] for t in self.tag], dtype=object), return_inverse=True)
            self._operators = (len(self.tag), [str(n) for n in names], codes.astype(np.int64))
        return self._operators[1], self._operators[2]

    def repriced(self, seconds: np.ndarray, hbm_bytes: np.ndarray) -> Program:
        """The same instructions and edges with other durations and bytes. It shares this program's
        lists and token arrays, so neither may be extended afterwards."""
        self.tokens()
        self.operators()
        self.arrays()
        return Program(self.queue, seconds, hbm_bytes, self.tag, self.edges, self._waited, self._tokens,  # type: ignore[arg-type]
                       self._operators, self._queue)

    def tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """``(wait[i, q], release[i, q])``: tokens instruction i consumes from / sends to queue q
        (computed once per program state; callers must not modify them).

        Several edges from one producer to one queue collapse into one token (the earliest consumer
        receives it; later ones in that queue are ordered behind it). Raises if the FIFO order of a
        queue pair would hand a token to the wrong consumer.
        """
        if self._tokens is None or self._tokens[:2] != (len(self.queue), len(self.edges)):
            self._tokens = (len(self.queue), len(self.edges), *self._build_tokens())
        return self._tokens[2], self._tokens[3]

    def _build_tokens(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.queue)
        wait = np.zeros((n, 6), dtype=np.int32)
        release = np.zeros((n, 6), dtype=np.int32)
        if not self.edges:
            return wait, release
        queue = np.asarray(self.queue)
        p, c = np.asarray(self.edges).T
        dst = queue[c]
        order = np.lexsort((c, dst, p))
        p, c, dst = p[order], c[order], dst[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = (p[1:] != p[:-1]) | (dst[1:] != dst[:-1])
        p, c, dst = p[first], c[first], dst[first]
        src = queue[p]
        order = np.lexsort((p, dst, src))  # each queue pair's tokens in release order
        p, c, dst, src = p[order], c[order], dst[order], src[order]
        same_pair = (src[1:] == src[:-1]) & (dst[1:] == dst[:-1])
        bad = np.flatnonzero(same_pair & (c[1:] < c[:-1]))
        if len(bad):
            k = bad[0]
            raise ValueError(f"{QUEUES[src[k]]}->{QUEUES[dst[k]]} tokens would be consumed out of order")
        np.add.at(release, (p, dst), 1)
        np.add.at(wait, (c, src), 1)
        return wait, release

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(queue, seconds, wait, release)`` as the simulators take them."""
        wait, release = self.tokens()
        if self._queue is None or len(self._queue) != len(self.queue):
            self._queue = np.asarray(self.queue, dtype=np.int64)
        return self._queue, np.asarray(self.seconds, dtype=np.float64), wait, release
