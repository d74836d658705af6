"""Import Timeloop/Accelergy v0.4 inputs (architecture, problem, mapping, ERT) into einsim.

``sets`` finds a set's files inside one folder; ``files`` reads them as untrusted YAML; ``arch``,
``problem`` and ``mapping`` turn them into a Hierarchy, a workload and a Mapping; ``load`` puts the
pieces together with the ERT's energies and evaluates; ``stats`` reads Timeloop's reported outputs.
"""

from einsim.mappers.timeloop.load import TimeloopSet, evaluate_set, load_timeloop, read_ert
from einsim.mappers.timeloop.sets import SetFiles, find_sets
from einsim.mappers.timeloop.stats import TimeloopStats, read_stats

__all__ = ["SetFiles", "TimeloopSet", "TimeloopStats", "evaluate_set", "find_sets", "load_timeloop", "read_ert", "read_stats"]
