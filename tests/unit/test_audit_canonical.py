"""The bytes a history row's hash covers (domain.audit.canonical) stay those json.dumps and strftime wrote before
they were built faster: any other byte would break every stored chain."""
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from domain.audit import GENESIS, STEP_FIELDS, canonical, row_hash, step_canonical, step_hash

ROME = ZoneInfo("Europe/Rome")


def _as_before(value):
    """canonical's rule as first written: instants through strftime in UTC (naive ones taken as UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _before(fields):
    return json.dumps({n: _as_before(fields.get(n)) for n in STEP_FIELDS if n != "on_behalf_of"
                       or fields.get(n) is not None}, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([None, timezone.utc, ROME, timezone(timedelta(hours=-5))])))
def test_an_instant_is_hashed_as_strftime_wrote_it_in_utc_whatever_its_offset_and_year(instant):
    fields = {"case_id": 1, "seq": 1, "recorded_at": instant, "effective_at": instant, "reason": "Motivo: «sì»"}
    assert canonical(fields, STEP_FIELDS) == _before(fields)


def test_a_year_before_1000_keeps_strftimes_unpadded_year():
    fields = {"recorded_at": datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=timezone.utc)}
    assert b'"recorded_at":"999-03-04T05:06:07.000008Z"' in canonical(fields, STEP_FIELDS)


def test_the_same_instant_at_two_offsets_hashes_the_same():
    at_rome = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)
    assert canonical({"effective_at": at_rome}, STEP_FIELDS) == canonical(
        {"effective_at": at_rome.astimezone(timezone.utc)}, STEP_FIELDS)


def test_a_steps_data_keeps_its_bytes():
    data = {"persona": {"codice_fiscale": "RSSNNA40A01D142P", "data_nascita": date(1940, 1, 1)},
            "importo": Decimal("12.50"), "ore": 2.5, "note": "riga\ncon «virgolette» \"e\" \\", "elenco": (1, 2)}
    fields = {"data": data, "on_behalf_of": "sostituta"}
    plain = {"persona": {"codice_fiscale": "RSSNNA40A01D142P", "data_nascita": "1940-01-01"}, "importo": "12.50",
             "ore": 2.5, "note": data["note"], "elenco": [1, 2]}
    assert canonical(fields, STEP_FIELDS) == _before({"data": plain, "on_behalf_of": "sostituta"})


def test_the_two_instants_of_the_hour_repeated_when_summer_time_ends_hash_apart():
    """02:30 in Rome on 25/10/2026 happens twice (fold 0: +02:00, fold 1: +01:00); a datetime compares equal to
    its other fold, so nothing may be kept by the local time."""
    first = datetime(2026, 10, 25, 2, 30, tzinfo=ROME)
    second = first.replace(fold=1)
    for instant in (first, second, first, second):
        assert canonical({"effective_at": instant}, STEP_FIELDS) == _before({"effective_at": instant})
    assert canonical({"effective_at": first}, STEP_FIELDS) != canonical({"effective_at": second}, STEP_FIELDS)


_TEXT = st.one_of(st.none(), st.text(max_size=30))
_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                                st.floats(allow_nan=False), st.dates(), st.decimals(allow_nan=False)),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


@settings(max_examples=400)
@given(case_id=st.one_of(st.integers(min_value=1), st.booleans(), st.text(max_size=3)), seq=st.integers(),
       texts=st.tuples(*[_TEXT] * 7), data=st.one_of(st.none(), st.dictionaries(st.text(max_size=8), _VALUE)),
       recorded=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                             timezones=st.sampled_from([None, timezone.utc, ROME])),
       effective=st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                                   timezones=st.sampled_from([None, timezone.utc, ROME]))))
def test_a_steps_row_written_out_by_hand_has_the_very_bytes_of_canonical(case_id, seq, texts, data, recorded,
                                                                         effective):
    """step_canonical (every step's and every imported row's hash) against canonical over STEP_FIELDS: any
    text (quotes, controls, «», emoji), any data, any instant; an unexpected type falls back to canonical."""
    transition, from_state, to_state, actor, role, reason, behalf = texts
    fields = {"case_id": case_id, "seq": seq, "transition": transition, "from_state": from_state,
              "to_state": to_state, "actor": actor, "actor_role": role, "recorded_at": recorded,
              "effective_at": effective, "reason": reason, "data": data, "on_behalf_of": behalf}
    by_hand = step_canonical(case_id, seq, transition, from_state, to_state, actor, role, recorded, effective,
                             reason, data, behalf)
    assert by_hand == canonical(fields, STEP_FIELDS)
    assert step_hash(GENESIS, case_id, seq, transition, from_state, to_state, actor, role, recorded, effective,
                     reason, data, behalf) == row_hash(GENESIS, fields, STEP_FIELDS)
