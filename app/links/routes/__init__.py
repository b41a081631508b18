"""The links' routes: saving and revoking offers, the debtor's page and downloads and acceptance,
accepted plans and their payoff, payments."""
