"""The people around a debt and the rules for reaching them: a debt's recorded terms and
jurisdiction (``debts``), its parties, sealed at rest and masked on the way out (``parties``),
the contact check and the record of attempts under the jurisdiction's rules (``checks``), and
the preferences a party sets on their own page (``preferences``), with their routes
(``routes``).
"""
