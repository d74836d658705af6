"""One module per `einsim` subcommand; each defines ``register(subparsers)``."""
