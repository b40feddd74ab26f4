"""maxtrio.acme — the Acme fake SaaS: tenants, seeding, HTTP server and clients."""
