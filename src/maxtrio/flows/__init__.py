"""maxtrio.flows — the MaxQ-compatible workflow engine: flows, store, scheduler, HTTP API."""
