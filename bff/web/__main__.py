"""`python -m bff.web`: run one web-bff instance (configuration from VIDMESH_* variables)."""

from bff.web.bootstrap import main

main()
