"""The messages section of a policy: who a message says it is from, how it says to pay, and
how its recipient stops text messages.

Every text message starts with the sender's signature where the jurisdiction asks for one (CN:
``【签名】``) and ends with the jurisdiction's opt-out instruction; every message names the
creditor, and a message to an obligor says how to pay (a bank account and the reference to
quote, a pay link carrying the plan's reference, or both). A recipient who replies with one of
:data:`OPT_OUT_KEYWORDS` is opted out of text messages (``app.messaging.replies``), so an
instruction must name one of them.

Omitted, the section takes the shipped defaults (:func:`shipped_message_rules`): no bank account
or pay link, the organisation's own name as the creditor (and, in ``【】``, as the CN
signature), and the opt-out instructions below, each citing its source.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field, model_validator

from plans.errors import DomainError
from schemas.common import Locale, Model, OneLine

Code = Literal["CN", "US", "GB"]
Name = Annotated[OneLine, Field(min_length=1, max_length=100)]
Citation = Annotated[OneLine, Field(min_length=1, max_length=2000)]

#: Replies that opt the sender out of text messages, compared whole, after NFKC and upper-case.
#: CN: "T"/"TD"/"退订" are the carriers' customary unsubscribe replies (回T退订); US: the CTIA
#: Messaging Principles and Best Practices (2023) §5 opt-out keywords, and the words 47 CFR
#: 64.1200(a)(10) (FCC 24-24, 2024) names as a reasonable revocation of consent by text.
OPT_OUT_KEYWORDS = frozenset(
    {"T", "TD", "N", "退订", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
    | {"REVOKE", "OPT OUT", "OPTOUT"}
)
#: What a pay link may carry: the debt's reference (the one a bank transfer quotes) or the plan.
PAY_LINK_PLACEHOLDERS = ("reference", "plan")
_CN_SIGNATURE = re.compile(r"^【[^【】\s]{2,16}】$")


def opt_out_keyword(reply: str) -> bool:
    """Whether a reply to a text message asks to opt out of them.

    Examples
    --------
    >>> [opt_out_keyword(r) for r in ("TD", " stop ", "Ｔ", "退订。", "stop calling me")]
    [True, True, True, True, False]
    """
    text = unicodedata.normalize("NFKC", reply).strip().strip(".!。！").upper()
    return " ".join(text.split()) in OPT_OUT_KEYWORDS


def _names_keyword(text: str) -> bool:
    plain = unicodedata.normalize("NFKC", text).upper()
    return any(
        re.search(rf"(?<![A-Z]){re.escape(k)}(?![A-Z])", plain) is not None
        for k in OPT_OUT_KEYWORDS
    )


class BankAccountBody(Model):
    """Where a bank transfer goes; the message adds the reference to quote."""

    bank_name: Name = Field(examples=["中国工商银行上海分行"])
    account_name: Name = Field(examples=["某某银行股份有限公司"])
    account_number: str = Field(
        pattern=r"^[0-9A-Z][0-9A-Z ]{3,39}$", examples=["6222 0210 0104 5678 901"]
    )


class SenderBody(Model):
    """A jurisdiction's signature and opt-out instruction for text messages, and their source."""

    signature: OneLine | None = Field(
        None,
        max_length=40,
        description="Starts every text message; CN: 2 to 16 characters in 【】. Null: CN"
        " signs with the creditor's name in 【】, US and GB with none.",
        examples=["【某某银行】"],
    )
    sms_opt_out: dict[Locale, Annotated[OneLine, Field(min_length=1, max_length=60)]] = Field(
        min_length=1,
        description="Ends every text message, per language; must name a reply that opts out"
        " (rule names_opt_out_keyword).",
    )
    source: Citation

    def opt_out_for(self, locale: str) -> str:
        """The opt-out instruction in ``locale``, else in the first language given."""
        found = self.sms_opt_out.get(Locale(locale))
        return found if found is not None else next(iter(self.sms_opt_out.values()))


def _shipped_senders() -> dict[Code, SenderBody]:
    return {
        "CN": SenderBody(
            sms_opt_out={Locale.ZH_CN: "回T退订", Locale.EN: "Reply T to unsubscribe"},
            source="《通信短信息服务管理规定》(工业和信息化部令第31号, 2015) 第十八条"
            " (提供便捷有效的拒绝接收方式并随短信息告知用户) and the carriers' 106 port rules"
            " (短信签名: the sender named in 【】 at the start); repay policy: every text, not"
            " only commercial ones",
        ),
        "US": SenderBody(
            sms_opt_out={Locale.EN: "Reply STOP to opt out", Locale.ZH_CN: "回复STOP退订"},
            source="12 CFR 1006.6(e) (Regulation F: a reasonable and simple way to opt out);"
            " 47 CFR 64.1200(a)(10) (TCPA: revocation by replying stop); CTIA Messaging"
            " Principles and Best Practices (2023) §5",
        ),
        "GB": SenderBody(
            sms_opt_out={Locale.EN: "Reply STOP to opt out", Locale.ZH_CN: "回复STOP退订"},
            source="FCA CONC 7.9.4R (reasonable requests about how to be contacted); PECR"
            " reg. 22(3) and the CAP Code 10 (a simple means to refuse further messages);"
            " repay policy",
        ),
    }


class MessagesBody(Model):
    """What every message says of its sender and of how to pay, and how to stop texts."""

    creditor: dict[Locale, Name] = Field(
        default_factory=dict,
        description="The creditor's name per language; empty: the organisation's name.",
        examples=[{"zh-CN": "某某银行", "en": "Example Bank"}],
    )
    bank_account: BankAccountBody | None = Field(
        None, description="Pay by bank transfer, quoting the debt's reference."
    )
    pay_link: OneLine | None = Field(
        None,
        max_length=300,
        description="An https link to pay online; {reference} (the debt's reference) and"
        " {plan} (the plan's id) are filled in, and at least one is required.",
        examples=["https://pay.example.com/{reference}"],
    )
    jurisdictions: dict[Code, SenderBody] = Field(
        default_factory=_shipped_senders,
        description="Signature and opt-out instruction of text messages, for CN, US and GB.",
    )

    @model_validator(mode="after")
    def _valid(self) -> MessagesBody:
        if self.pay_link is not None:
            _check_pay_link(self.pay_link)
        missing = sorted({"CN", "US", "GB"} - set(self.jurisdictions))
        if missing:
            raise DomainError(
                "jurisdictions",
                "every_jurisdiction",
                f"must give CN, US and GB, not without {missing}",
            )
        for code, sender in self.jurisdictions.items():
            where = f"jurisdictions.{code}"
            signature = sender.signature
            if code == "CN" and signature is not None and not _CN_SIGNATURE.match(signature):
                raise DomainError(
                    f"{where}.signature",
                    "cn_signature",
                    "must be 2 to 16 characters in 【】, e.g. 【某某银行】",
                )
            for locale, text in sender.sms_opt_out.items():
                if not _names_keyword(text):
                    raise DomainError(
                        f"{where}.sms_opt_out.{locale}",
                        "names_opt_out_keyword",
                        f"must name a reply that opts out: one of {sorted(OPT_OUT_KEYWORDS)}",
                    )
        return self

    def sender(self, code: str) -> SenderBody:
        """The signature and opt-out instruction of jurisdiction ``code`` (CN, US or GB)."""
        return self.jurisdictions[code]  # type: ignore[index]

    def signature_for(self, code: str, organisation: str) -> str:
        """The signature a text message to a party of ``code`` starts with (``""``: none): the
        jurisdiction's, else for CN the creditor's Chinese name in 【】 (the one a carrier
        registers, whatever the message's language).

        Examples
        --------
        >>> body = MessagesBody(creditor={"en": "Example Bank", "zh-CN": "某某银行"})
        >>> body.signature_for("CN", "org"), body.signature_for("GB", "org")
        ('【某某银行】', '')
        """
        given = self.sender(code).signature
        if given is not None:
            return given
        return f"【{self.creditor_for('zh-CN', organisation)}】" if code == "CN" else ""

    def creditor_for(self, locale: str, organisation: str) -> str:
        """The creditor's name in ``locale`` (else the first given, else ``organisation``)."""
        found = self.creditor.get(Locale(locale))
        return found or next(iter(self.creditor.values()), organisation)

    def pay_link_for(self, *, reference: str, plan: str) -> str | None:
        """The pay link with the plan's reference filled in (each value URL-encoded).

        Examples
        --------
        >>> body = MessagesBody(pay_link="https://pay.example.com/{reference}?p={plan}")
        >>> body.pay_link_for(reference="CARD 1/2", plan="ab12")
        'https://pay.example.com/CARD%201%2F2?p=ab12'
        """
        if self.pay_link is None:
            return None
        return self.pay_link.format(reference=quote(reference, safe=""), plan=quote(plan, safe=""))


def _check_pay_link(template: str) -> None:
    field = "pay_link"  # relative: a 422 names it from the request's root
    if not template.startswith("https://") or len(template) <= len("https://"):
        raise DomainError(field, "https", "must be an https:// address")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DomainError(field, "known_placeholders", f"is not a valid template: {exc}") from None
    names = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PAY_LINK_PLACEHOLDERS or spec or conversion:
            raise DomainError(
                field,
                "known_placeholders",
                f"may only use {{reference}} and {{plan}}, not {{{name}}}",
            )
        names.add(name)
    if not names:
        raise DomainError(
            field, "names_the_plan", "must carry {reference} or {plan}: whose payment it is"
        )


def shipped_message_rules() -> MessagesBody:
    """The shipped defaults of a policy's ``messages`` section.

    Examples
    --------
    >>> body = shipped_message_rules()
    >>> body.signature_for("CN", "某某银行"), body.sender("CN").opt_out_for("zh-CN")
    ('【某某银行】', '回T退订')
    >>> body.signature_for("US", "Example Bank"), body.pay_link is None
    ('', True)
    """
    return MessagesBody()
