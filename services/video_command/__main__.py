"""`python -m services.video_command`: run one video-command instance."""

from services.video_command.bootstrap import main

main()
