"""maxtrio.storage — apsw SQLite: the entity engine, and (later) the task store and sync meta."""
