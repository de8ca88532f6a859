"""The shared runtime every vidmesh process uses."""
