"""`python -m services.email` runs one instance of the email service."""

from services.email.bootstrap import main

main()
