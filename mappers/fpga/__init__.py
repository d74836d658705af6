"""FlightLLM on FPGAs: CSD-chain compute model, HBM/weight-format model, lowering to instruction queues."""
