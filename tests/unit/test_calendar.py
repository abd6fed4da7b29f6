from datetime import date

import pytest

from domain.calendar import WorkingCalendar

CREMA = "019035"
PANDINO = "019067"


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar({CREMA: (6, 10)}, comune_names={CREMA: "Crema"})


def test_working_days_skip_weekends_and_the_christmas_holidays(calendar):
    plain = WorkingCalendar({})
    first = plain.add_working_days(date(2025, 12, 1), 25)
    assert first == date(2026, 1, 12)
    assert plain.add_working_days(first, 20) == date(2026, 2, 9)


def test_the_starting_day_is_not_counted(calendar):
    assert calendar.add_working_days(date(2025, 3, 3), 1) == date(2025, 3, 4)  # Monday -> Tuesday
    assert calendar.add_working_days(date(2025, 3, 3), 0) == date(2025, 3, 3)


def test_a_negative_number_of_days_is_refused(calendar):
    with pytest.raises(ValueError, match="negativo"):
        calendar.add_working_days(date(2025, 3, 3), -1)
    with pytest.raises(ValueError, match="negativo"):
        calendar.add_calendar_days(date(2025, 3, 3), -1)


def test_san_francesco_is_a_national_holiday_from_2026(calendar):
    assert calendar.holiday_name(date(2026, 10, 4)).startswith("Festa nazionale di San Francesco")
    assert not calendar.is_working_day(date(2027, 10, 4))  # a Monday
    assert calendar.holiday_name(date(2025, 10, 4)) is None


def test_national_holidays_have_italian_names_and_are_not_working_days(calendar):
    assert "Liberazione" in calendar.holiday_name(date(2025, 4, 25))
    for holiday in (date(2025, 4, 25), date(2026, 4, 6), date(2026, 6, 2), date(2026, 12, 25), date(2026, 12, 8)):
        assert not calendar.is_working_day(holiday), holiday


def test_cremonas_patron_day_is_a_working_day_in_crema(calendar):
    assert calendar.is_working_day(date(2025, 11, 13), CREMA)  # San Omobono, Cremona only


def test_a_calendar_day_deadline_on_a_sunday_moves_to_monday(calendar):
    due = calendar.add_calendar_days(date(2026, 2, 19), 10)  # lands on Sunday 1 March
    assert due == date(2026, 3, 2)


def test_a_calendar_day_deadline_on_a_working_day_stays_put(calendar):
    assert calendar.add_calendar_days(date(2026, 2, 19), 12) == date(2026, 3, 3)


def test_a_calendar_day_deadline_on_liberation_day_moves_to_the_next_working_day(calendar):
    assert calendar.add_calendar_days(date(2025, 4, 15), 10) == date(2025, 4, 28)  # Fri 25 -> Mon 28


def test_a_deadline_on_cremas_patron_day_moves_only_for_crema(calendar):
    assert calendar.add_calendar_days(date(2026, 6, 1), 9, CREMA) == date(2026, 6, 11)
    assert calendar.add_calendar_days(date(2026, 6, 1), 9, PANDINO) == date(2026, 6, 10)
    assert calendar.add_calendar_days(date(2026, 6, 1), 9) == date(2026, 6, 10)


def test_the_patron_day_is_named_after_the_comune(calendar):
    assert calendar.holiday_name(date(2026, 6, 10), CREMA) == "Festa patronale (Crema)"
    assert calendar.holiday_name(date(2026, 6, 10), PANDINO) is None
    assert WorkingCalendar({CREMA: (6, 10)}).holiday_name(date(2026, 6, 10), CREMA) == "Festa patronale (019035)"


def test_working_days_skip_the_patron_day_of_the_comune(calendar):
    assert calendar.add_working_days(date(2026, 6, 9), 1, CREMA) == date(2026, 6, 11)
    assert calendar.add_working_days(date(2026, 6, 9), 1, PANDINO) == date(2026, 6, 10)


def test_saturday_is_not_a_working_day_unless_configured():
    saturday = date(2025, 3, 8)
    assert not WorkingCalendar({}).is_working_day(saturday)
    assert WorkingCalendar({}, saturday_is_working=True).is_working_day(saturday)
    assert not WorkingCalendar({}, saturday_is_working=True).is_working_day(date(2025, 3, 9))


def test_counting_with_working_saturdays_uses_them():
    friday = date(2025, 3, 7)
    assert WorkingCalendar({}).add_working_days(friday, 1) == date(2025, 3, 10)
    assert WorkingCalendar({}, saturday_is_working=True).add_working_days(friday, 1) == date(2025, 3, 8)
    assert WorkingCalendar({}, saturday_is_working=True).add_calendar_days(date(2025, 4, 15), 10) == date(2025, 4, 26)


def test_next_working_day_returns_the_day_itself_when_it_is_working(calendar):
    assert calendar.next_working_day(date(2025, 3, 5)) == date(2025, 3, 5)
    assert calendar.next_working_day(date(2025, 12, 25)) == date(2025, 12, 29)  # Thu 25, Fri 26, weekend


def test_an_impossible_patron_day_is_refused():
    with pytest.raises(ValueError, match="festa patronale non valida"):
        WorkingCalendar({CREMA: (2, 30)})
