"""The notification service: every user's inbox, built from users.v1 and video.v1 events.

It keeps its own copy of who follows whom and of display names (it never reads the users
database), turns VideoPublished, CommentAdded, VideoLiked and UserFollowed into
notifications, each exactly once per (event, recipient), and announces each one as a
NotificationCreated event through the transactional outbox. NotificationService serves the
inbox: ListNotifications, UnreadCount, MarkRead.
"""
