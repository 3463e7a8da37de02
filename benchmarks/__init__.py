"""Benchmarks, one module per benchmark; the ``speech-archive bench*`` commands print what they return.

Each measured mode runs in its own process (``python -m benchmarks.<name> …``),
so one mode's memory peak or reactor never hides another's.
"""
