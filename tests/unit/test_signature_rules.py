"""The judgement of a signature (domain/signatures.py), from what the checks found: pure, one case per rule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.signatures import SignatureFinding, Subject, judge

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
ROSSI = Subject(common_name="ROSSI MARIO", given_name="Mario", surname="Rossi", serial_number="TINIT-RSSMRA80A01D142M")


def sound(**changes) -> SignatureFinding:
    base = dict(formato="CAdES", intact=True, valid=True, subject=ROSSI, signing_time=NOW - timedelta(days=1),
                cert_not_before=NOW - timedelta(days=365), cert_not_after=NOW + timedelta(days=365))
    return SignatureFinding(**{**base, **changes})


@pytest.mark.parametrize("chain, fiducia, words", [
    (None, "non verificata", "elenco europeo"),
    ("ok", "verificata", "archivio di fiducia configurato"),
    ("revoked", "non attendibile", "revocato"),
    ("expired", "non attendibile", "marca temporale"),
    ("untrusted", "non attendibile", "non è emesso da un'autorità"),
])
def test_an_intact_signature_is_trusted_only_as_far_as_its_chain_was_checked(chain, fiducia, words):
    report = judge(sound(chain=chain), now=NOW)
    assert report.integra is True and report.fiducia == fiducia and words in report.dettaglio
    assert "19/11/2026 10:00" in report.dettaglio  # the signing time, in Rome


def test_a_certificate_not_for_signing_is_not_attendibile_even_with_a_good_chain():
    report = judge(sound(signing_key_usage=False, chain="ok"), now=NOW)
    assert report.fiducia == "non attendibile" and "non è abilitato alla firma" in report.dettaglio


def test_a_certificate_not_yet_valid_when_it_signed_is_not_attendibile():
    report = judge(sound(cert_not_before=NOW), now=NOW)
    assert report.fiducia == "non attendibile" and "non era ancora valido alla data della firma" in report.dettaglio


def test_without_a_declared_signing_time_the_certificate_is_checked_today():
    report = judge(sound(signing_time=None, cert_not_after=NOW - timedelta(days=2)), now=NOW)
    assert report.firma_data is None and "era scaduto oggi (scadenza 18/11/2026)" in report.dettaglio


def test_the_signer_is_named_by_the_common_name_when_the_certificate_has_no_given_name_and_surname():
    report = judge(sound(subject=Subject(common_name="Bianchi Anna")), now=NOW)
    assert report.firmatario_nome == "Bianchi Anna" and report.firmatario_cf is None
    nameless = judge(sound(intact=False, subject=Subject()), now=NOW)
    assert "firmatario non indicato nel certificato" in nameless.dettaglio


def test_a_broken_signature_value_is_not_integra_even_if_the_digest_matches():
    report = judge(sound(valid=False), now=NOW)
    assert report.integra is False and "non corrisponde al certificato di Mario Rossi" in report.dettaglio
