"""Slow twin of `einsim.sim.kernels.fpga_queues`: the instruction queues as a simpy simulation.

Each of the six queues is a simpy process that runs its instructions in order; a token between two
queues is an item in a simpy Store, put when the producer ends and taken by the consumer before it
starts. Nothing is computed in closed form: simpy's clock gives every start and end time.
"""

from __future__ import annotations

import numpy as np
import simpy


def run_queues(queue: np.ndarray, seconds: np.ndarray, wait: np.ndarray, release: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end time of every instruction."""
    env = simpy.Environment()
    nq = wait.shape[1]
    stores = [[simpy.Store(env) for _ in range(nq)] for _ in range(nq)]  # stores[src][dst]
    start = np.zeros(len(queue))
    end = np.zeros(len(queue))
    ran = np.zeros(len(queue), dtype=bool)

    def run(q: int):
        for i in np.flatnonzero(queue == q):
            for src in range(nq):
                for _ in range(int(wait[i, src])):
                    yield stores[src][q].get()
            start[i] = env.now
            yield env.timeout(float(seconds[i]))
            end[i] = env.now
            ran[i] = True
            for dst in range(nq):
                for _ in range(int(release[i, dst])):
                    yield stores[q][dst].put(i)

    for q in range(nq):
        env.process(run(q))
    env.run()
    if not ran.all():
        raise RuntimeError(f"deadlock: instruction {int(np.flatnonzero(~ran)[0])} never got its tokens")
    return start, end


def run_queues_batch(queue: np.ndarray, seconds: np.ndarray, wait: np.ndarray, release: np.ndarray) -> np.ndarray:
    """Latency of the program at each row of ``seconds``, one simpy run per row."""
    return np.array([run_queues(queue, row, wait, release)[1].max() for row in seconds])
