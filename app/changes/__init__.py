"""The debtor's requests for a change to their plan: proposing what they can afford through
their link, the counter-offer engine's answer on what is owed now, asking for it (audited,
idempotent, capped per day), and the collectors' decisions (``change_requests``); through a
consolidated offer's link, the same for all its debts as one plan (``group_changes``); the change
pages (``pages``, ``templates``) and their routes (``routes``).
"""
