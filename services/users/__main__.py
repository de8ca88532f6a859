"""`python -m services.users`: run one users instance (see bootstrap.py for the settings)."""

from services.users.bootstrap import main

main()
