"""Version of the ltr package."""

__version__ = "0.1.0"
