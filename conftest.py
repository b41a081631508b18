"""Collection rules for the whole repository (``make test`` collects ``app/`` for doctests)."""

# Alembic runs env.py and the revision scripts inside its own context; imported bare for
# doctest collection, env.py fails and the revisions have nothing to test.
collect_ignore = ["app/migrations"]
