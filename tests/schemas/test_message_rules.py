"""schemas/message_rules.py: the policy's messages section, its shipped defaults and the rules
that refuse a section no message could follow: each names the field (relative to the section;
a 422 names it from the request's root, ``body.messages.pay_link``) and the rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plans.errors import DomainError
from schemas.message_rules import MessagesBody, opt_out_keyword, shipped_message_rules


def refused(body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        MessagesBody.model_validate(body)
    error = caught.value.errors()[0]["ctx"]["error"]
    assert isinstance(error, DomainError)
    return error.field, error.rule


@pytest.mark.parametrize(
    ("template", "rule"),
    [
        ("http://pay.example.com/{reference}", "https"),
        ("https://pay.example.com/{account}", "known_placeholders"),
        ("https://pay.example.com/{}", "known_placeholders"),
        ("https://pay.example.com/{reference!r}", "known_placeholders"),
        ("https://pay.example.com/{reference:>9}", "known_placeholders"),
        ("https://pay.example.com/{reference.upper}", "known_placeholders"),
        ("https://pay.example.com/{reference", "known_placeholders"),
        ("https://pay.example.com/pay", "names_the_plan"),
    ],
)
def test_a_bad_pay_link_is_refused_naming_its_rule(template: str, rule: str) -> None:
    assert refused({"pay_link": template}) == ("pay_link", rule)


def test_a_pay_link_is_filled_with_the_plans_reference() -> None:
    body = MessagesBody(pay_link="https://pay.example.com/{reference}/{plan}")
    assert body.pay_link_for(reference="CARD-1", plan="p1") == "https://pay.example.com/CARD-1/p1"


@pytest.mark.parametrize("signature", ["某某银行", "【】", "【某】", "【某某 银行】", "[某某银行]"])
def test_a_cn_signature_must_be_two_to_sixteen_characters_in_brackets(signature: str) -> None:
    shipped = shipped_message_rules().model_dump(mode="json")["jurisdictions"]
    shipped["CN"]["signature"] = signature
    assert refused({"jurisdictions": shipped}) == (
        "jurisdictions.CN.signature",
        "cn_signature",
    )


def test_an_opt_out_instruction_must_name_a_reply_that_opts_out() -> None:
    shipped = shipped_message_rules().model_dump(mode="json")["jurisdictions"]
    shipped["US"]["sms_opt_out"] = {"en": "Call 400 800 8888 to be removed"}
    assert refused({"jurisdictions": shipped}) == (
        "jurisdictions.US.sms_opt_out.en",
        "names_opt_out_keyword",
    )
    del shipped["GB"]
    shipped["US"]["sms_opt_out"] = {"en": "Reply STOP to opt out"}
    assert refused({"jurisdictions": shipped}) == (
        "jurisdictions",
        "every_jurisdiction",
    )


def test_every_shipped_instruction_names_a_keyword_the_reply_path_honours() -> None:
    # CN: 回T退订 (the carriers' custom); US and GB: STOP (CTIA; 47 CFR 64.1200(a)(10))
    for sender in shipped_message_rules().jurisdictions.values():
        words = {"回T退订": "T", "Reply T to unsubscribe": "T"}
        for text in sender.sms_opt_out.values():
            keyword = words.get(text, "STOP")
            assert keyword in text and opt_out_keyword(keyword)


@pytest.mark.parametrize("reply", ["T", "td", "退订", "STOP", "Stop.", "ＳＴＯＰ", " unsubscribe "])
def test_opt_out_replies(reply: str) -> None:
    assert opt_out_keyword(reply)


@pytest.mark.parametrize("reply", ["", "ok", "STOP IT NOW", "I will pay tomorrow", "TT"])
def test_other_replies_do_not_opt_out(reply: str) -> None:
    assert not opt_out_keyword(reply)
