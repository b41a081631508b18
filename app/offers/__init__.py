"""The collectors' calculations, pure compute over the engine: every offer that fits a debt
(negotiate), one plan with explicit parameters, several side by side, the answer to a debtor's
counter-proposal (``calculations``), the APR of any credit, and the one-sentence summary of an
offer in English or Chinese (``summaries``). Nothing here is stored; saving an offer for a
debtor is ``app.links``'.
"""
