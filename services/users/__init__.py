"""users: accounts, sign-in with signed JWTs and their JWKS, and the follow graph.

domain.py holds the rules, handlers.py the use cases, adapters/ Postgres and the outbox,
server.py the gRPC servicer, keys.py/tokens.py/passwords.py the credentials machinery and
bootstrap.py the wiring. Run it with `python -m services.users`.
"""
