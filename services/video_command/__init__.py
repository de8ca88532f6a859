"""video-command: the write side of the video context (CQRS), publishing video.v1 events."""
