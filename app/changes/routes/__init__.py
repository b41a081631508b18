"""The change routes: the debtor's change pages, and the collectors' list of requests."""
