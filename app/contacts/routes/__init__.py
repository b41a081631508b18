"""The contacts' routes: debts, parties, contact checks and attempts, a party's preferences."""
