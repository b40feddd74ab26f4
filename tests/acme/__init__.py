"""Tests of maxtrio.acme, the Acme fake SaaS."""
