"""The result store: SQLite (standard library), one row per design point keyed by a content hash.

The key hashes the resolved architecture parameters, the workload and its options, the mode and the package
version, so a result is reused only for exactly the configuration that produced it. Each point is written in
its own transaction (WAL mode, a busy timeout), so several sweeps may share one store and a killed sweep leaves
only whole points behind.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    result TEXT,
    error TEXT
)
"""


def point_key(arch_params: dict[str, Any], workload: dict[str, Any], mode: str, version: str) -> str:
    blob = json.dumps({"arch": arch_params, "workload": workload, "mode": mode, "version": version},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(SCHEMA)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            q = f"SELECT key, status, result, error FROM points WHERE key IN ({','.join('?' * len(chunk))})"
            for key, status, result, error in self.db.execute(q, chunk):
                out[key] = {"status": status, "result": json.loads(result) if result else None, "error": error}
        return out

    def put(self, key: str, config: dict[str, Any], status: str, result: dict | None, error: str | None) -> None:
        """One point, one transaction; a point already stored (by another writer) is kept as it is."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR IGNORE INTO points VALUES (?, ?, ?, ?, ?)",
                            (key, json.dumps(config, sort_keys=True, default=str), status,
                             json.dumps(result, sort_keys=True) if result is not None else None, error))

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM points").fetchone()[0]

    def close(self) -> None:
        self.db.close()
