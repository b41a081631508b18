"""The core every capability stands on: configuration (``settings``), the database engine and
sessions (``db``) and the service's own tables (``models``: API keys and their roles), errors as
RFC 9457 problem documents (``errors``), personal data sealed at rest and masked on the way out
(``crypto``, ``masking``), API keys and the dependencies that authenticate them (``keys``,
``deps``), who may see what (``access``), the domain-event bus the rooms talk through
(``events``), idempotent requests, the words shown to people in each language (``i18n``: the
gettext catalogs of ``app/locale``), and the probes and key routes (``routes``). It imports no
other package of ``app``.
"""
