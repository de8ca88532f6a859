"""`python -m services.notification` runs one instance of the notification service."""

from services.notification.bootstrap import main

main()
