"""One module per `fuelrl` subcommand.

Each defines ``add_arguments(parser)`` and ``run(args) -> int``; its one-line help is in
``fuelrl.cli.COMMANDS``.
"""
