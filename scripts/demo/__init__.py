"""`make demo`: a guided tour of the six patterns against the running stack.

Each step says what it shows and why, makes the real calls (printing the equivalent curl or
grpcurl command line, so you can paste it), checks that the system behaved as described,
and puts back what it changed. The tour exits non-zero if any step did not behave.
"""
