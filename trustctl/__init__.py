"""trustctl: decide, from evidence, how much authority an AI operations agent has earned."""

__version__ = "0.1.0"
