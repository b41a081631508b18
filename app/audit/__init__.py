"""The append-only audit trail: its one table (``models``), recording an event chained to the one
before it by a keyed hash and verifying the chain (``trail``), the signed checkpoint of the
chain's head kept outside the database (``checkpoint``), and the routes that list events and
check the chain (``routes``). Every capability records its events here; reading them checks,
through ``app.core.access``, that the caller may see the offer or plan they belong to.
"""
