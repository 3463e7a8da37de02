"""Local HTTP replicas of five Chinese speech-template sites, for tests and benchmarks.

Standard library only, so it imports anywhere (tests, the CLI, a benchmark process).
See ``ReplicaServer`` for the API and ``ExpectedArticle`` for the ground truth a
perfect crawler + cleaner should reproduce.
"""

from __future__ import annotations

from replica.config import REPLICA_BODY_HINTS, replica_config
from replica.model import ExpectedArticle
from replica.server import ReplicaServer, RequestRecord, serve
from replica.sites import SITE_NAMES
from replica.textgen import Speech, generate_speech

__all__ = [
    "REPLICA_BODY_HINTS",
    "SITE_NAMES",
    "ExpectedArticle",
    "ReplicaServer",
    "RequestRecord",
    "Speech",
    "generate_speech",
    "replica_config",
    "serve",
]
