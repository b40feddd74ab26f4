"""maxtrio.flows — the MaxQ-compatible workflow engine: flows on disk, store, scheduler, HTTP API."""
