"""video-query: the read side of the video context (CQRS).

A projector (consumer.py, handlers.py, domain.py) consumes video.v1 and users.v1 events
into denormalised tables in the `video_read` schema; VideoQueryService (server.py,
queries.py, adapters/views.py) answers from them: video cards with counters and uploader
names, channel pages, a followed feed, trending, full-text search and comments, paged with
signed keyset tokens (paging.py), and waits a bounded time for a client's own write
(waiting.py, adapters/notify.py). rebuild.py replays the topics into fresh tables.

    VIDMESH_DATABASE_URL=... python -m services.video_query
    VIDMESH_DATABASE_URL=... python -m services.video_query.rebuild
"""
