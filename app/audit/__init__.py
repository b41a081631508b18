"""The append-only audit trail: its one table (``models``), recording an event chained to the one
before it by hash and verifying the chain (``trail``), and the routes that list events and check
the chain (``routes``). Every capability records its events here; reading them checks, through
``app.core.access``, that the caller may see the offer or plan they belong to.
"""
