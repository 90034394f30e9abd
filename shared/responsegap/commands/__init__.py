"""Sub-commands of the ``responsegap`` CLI: each module has ``register(subparsers)``.

``register`` adds the sub-parser and sets ``run=<function(args) -> int>`` as its default.
"""
