"""Helpers of the end-to-end tests: a REST client of the gateway, the registry and the
gateway's admin view, the stack's instances, a background load, the SMTP sink's Maildir."""
