"""`python -m services.video_query`: run one video-query instance."""

from services.video_query.bootstrap import main

main()
