"""Postgres storage and the event mapping of video-command."""
