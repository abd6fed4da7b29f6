"""Italian working-day calendar: national holidays, the comune's patron day, optional Saturdays.

National holidays come from the `holidays` library (Italian names). Never pass subdiv="CR":
it adds Cremona's patron day (13 November) to every comune of the province, Crema included.
The comune's own patron day is configured per ISTAT code instead.
"""

from collections.abc import Mapping
from datetime import date, timedelta

import holidays


class WorkingCalendar:
    def __init__(
        self,
        patron_days: Mapping[str, tuple[int, int]] | None = None,
        saturday_is_working: bool = False,
        comune_names: Mapping[str, str] | None = None,
    ) -> None:
        for istat, (month, day) in (patron_days or {}).items():
            try:
                date(2000, month, day)  # leap year: 29 February is accepted
            except ValueError:
                raise ValueError(f"festa patronale non valida per il comune {istat}: {day}/{month}") from None
        self._patron_days = {istat: (month, day) for istat, (month, day) in (patron_days or {}).items()}
        self.saturday_is_working = saturday_is_working
        self._comune_names = dict(comune_names or {})
        self._national: dict[int, holidays.HolidayBase] = {}

    def _national_holidays(self, year: int) -> holidays.HolidayBase:
        if year not in self._national:
            self._national[year] = holidays.country_holidays("IT", years=year, language="it_IT")
        return self._national[year]

    def is_patron_day(self, d: date, comune: str | None = None) -> bool:
        return comune is not None and self._patron_days.get(comune) == (d.month, d.day)

    def holiday_name(self, d: date, comune: str | None = None) -> str | None:
        """Italian name of the national holiday or of the comune's patronal feast, else None."""
        name = self._national_holidays(d.year).get(d)
        if name:
            return name
        if self.is_patron_day(d, comune):
            return f"Festa patronale ({self._comune_names.get(comune, comune)})"
        return None

    def is_working_day(self, d: date, comune: str | None = None) -> bool:
        weekday = d.weekday()
        if weekday == 6 or (weekday == 5 and not self.saturday_is_working):
            return False
        return self.holiday_name(d, comune) is None

    def next_working_day(self, d: date, comune: str | None = None) -> date:
        """d itself if it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(d, comune):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date, n: int, comune: str | None = None) -> date:
        """The n-th working day after start (the starting day is not counted)."""
        if n < 0:
            raise ValueError("il numero di giorni non può essere negativo")
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d, comune):
                n -= 1
        return d

    def add_calendar_days(self, start: date, n: int, comune: str | None = None) -> date:
        """start + n days; a deadline falling on a non-working day moves to the next working day."""
        if n < 0:
            raise ValueError("il numero di giorni non può essere negativo")
        return self.next_working_day(start + timedelta(days=n), comune)


def working_days_between(calendar: WorkingCalendar, start: date, end: date, comune: str | None = None) -> int:
    """Working days in (start, end]; negative when `end` is before `start`."""
    if end < start:
        return -working_days_between(calendar, end, start, comune)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day, comune)
    return count
