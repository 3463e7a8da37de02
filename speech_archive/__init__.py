"""speech-archive: scheduled archiving of Chinese speech-template sites."""

__version__ = "0.1.0"
