"""`python -m bff.mobile`: run one mobile-bff instance (configuration from VIDMESH_* variables)."""

from bff.mobile.bootstrap import main

main()
