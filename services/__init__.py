"""vidmesh's domain services, one package each: users, video_command, video_query, notification, email."""
