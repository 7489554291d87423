"""The deterministic demo and benchmark data set (random numbers from stdlib ``random``), loader."""

from agentdesk_sync.seed.generator import (
    CHUNK,
    ChunkRows,
    CustomerBundle,
    catalog,
    generate,
    generate_chunk,
    generate_rows,
)
from agentdesk_sync.seed.loader import SeedReport, seed_database

__all__ = [
    "CHUNK",
    "ChunkRows",
    "CustomerBundle",
    "SeedReport",
    "catalog",
    "generate",
    "generate_chunk",
    "generate_rows",
    "seed_database",
]
