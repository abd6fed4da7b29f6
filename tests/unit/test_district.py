import shutil
from datetime import date

import pytest
from stdnum.it import iva

from config.district import DEFAULT_DISTRICT_DIR, District, load_district

CREMA = "019035"


@pytest.fixture(scope="module")
def district() -> District:
    return load_district()


def test_the_cremasco_district_has_48_comuni_with_unique_codes(district):
    assert district.code == "cremasco"
    assert district.name == "Ambito Distrettuale Cremasco"
    assert len(district.comuni) == 48
    assert len({c.istat for c in district.comuni}) == 48
    assert len({c.belfiore for c in district.comuni}) == 48
    assert all(len(c.istat) == 6 and c.istat.startswith("019") for c in district.comuni)


def test_the_total_population_matches_the_source(district):
    assert sum(c.popolazione for c in district.comuni) == 162_702


def test_there_are_six_provisional_sub_ambiti_and_none_is_empty(district):
    names = {s.nome for s in district.sub_ambiti}
    assert names == {"Crema", "Sergnano", "Bagnolo Cremasco", "Pandino", "Castelleone", "Vailate"}
    for name in names:
        assert any(c.sub_ambito == name for c in district.comuni), name
    assert district.sub_ambiti_provisional
    assert "comuni.csv" in district.provisional_note


def test_the_known_sub_ambito_towns_lead_their_own_sub_ambito(district):
    for istat, name in [(CREMA, "Crema"), ("019094", "Sergnano"), ("019005", "Bagnolo Cremasco"), ("019067", "Pandino")]:
        assert district.sub_ambito_of(istat).nome == name


def test_crema_leads_the_district_and_celebrates_its_patron_on_10_june(district):
    crema = district.comune(CREMA)
    assert district.lead_istat == CREMA
    assert crema.nome == "Crema" and crema.belfiore == "D142"
    assert crema.patrono_mmdd == (6, 10)
    assert district.patron_days()[CREMA] == (6, 10)


def test_comuni_whose_feast_follows_a_sunday_rule_have_no_fixed_patron_day(district):
    assert district.comune("019067").patrono_mmdd is None  # Pandino
    assert "019067" not in district.patron_days()


def test_the_district_calendar_knows_the_patron_days(district):
    calendar = district.calendar()
    assert not calendar.is_working_day(date(2026, 6, 10), CREMA)
    assert calendar.is_working_day(date(2026, 6, 10), "019067")
    assert calendar.holiday_name(date(2026, 6, 10), CREMA) == "Festa patronale (Crema)"
    assert district.calendar(saturday_is_working=True).is_working_day(date(2026, 6, 13), CREMA)


def test_the_eleven_providers_have_valid_partite_iva_and_synthetic_e_mails(district):
    assert len(district.providers) == 11
    assert [p.codice for p in district.providers] == [f"ENTE{i:02d}" for i in range(1, 12)]
    for provider in district.providers:
        assert iva.is_valid(provider.partita_iva), provider.codice
        assert provider.email.endswith("@example.org")


def test_every_comune_is_covered_by_at_least_three_providers(district):
    for comune in district.comuni:
        assert len(district.providers_for(comune.istat)) >= 3, comune.nome
    assert any(len(p.comuni) == len(district.comuni) for p in district.providers)


def test_an_unknown_comune_is_a_lookup_error(district):
    with pytest.raises(KeyError):
        district.comune("999999")


def _copy(tmp_path):
    folder = tmp_path / "ambito"
    shutil.copytree(DEFAULT_DISTRICT_DIR, folder)
    return folder


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_copied_district_folder_loads_from_a_path(tmp_path):
    assert len(load_district(str(_copy(tmp_path))).comuni) == 48


def test_an_undeclared_sub_ambito_is_reported_with_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "comuni.csv", "Agnadello,3968,Pandino", "Agnadello,3968,Nord")
    with pytest.raises(ValueError) as exc:
        load_district(folder)
    assert str(exc.value) == ("comuni.csv, riga 2 (Agnadello): il sub-ambito «Nord» non è dichiarato "
                              "in district.toml")


def test_an_istat_code_without_leading_zeros_is_reported_with_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "comuni.csv", "019035,D142", "19035,D142")
    with pytest.raises(ValueError, match=r"comuni\.csv, riga 16 \(Crema\): «Codice ISTAT»: il codice ISTAT deve avere 6 cifre"):
        load_district(folder)


def test_a_bad_belfiore_code_is_reported_with_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "comuni.csv", "019035,D142", "019035,D14")
    with pytest.raises(ValueError, match=r"riga 16 \(Crema\): «Codice Belfiore»: il codice Belfiore deve avere 4 caratteri"):
        load_district(folder)


def test_a_provider_serving_an_unknown_comune_is_reported_with_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "providers.csv", "sad.casadeitigli@example.org,019035", "sad.casadeitigli@example.org,099999")
    with pytest.raises(ValueError) as exc:
        load_district(folder)
    assert str(exc.value) == "providers.csv, riga 9 (ENTE08): comuni non appartenenti all'ambito: 099999"


def test_a_provider_with_a_bad_partita_iva_is_reported_with_its_row(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "providers.csv", "91000370196", "91000370197")
    with pytest.raises(ValueError, match=r"providers\.csv, riga 2 \(ENTE01\): «Partita IVA»: partita IVA non valida"):
        load_district(folder)


def test_a_duplicated_comune_is_reported_with_both_rows(tmp_path):
    folder = _copy(tmp_path)
    with (folder / "comuni.csv").open("a", encoding="utf-8") as handle:
        handle.write("019035,D142,Crema bis,1,Crema,,\n")
    with pytest.raises(ValueError, match="comuni.csv, riga 50: codice ISTAT 019035 già usato alla riga 16"):
        load_district(folder)


def test_a_missing_governance_field_is_reported_in_italian(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "district.toml", 'planning_office_email = "ufficio.piano@example.org"\n', "")
    with pytest.raises(ValueError, match="district.toml: «E-mail dell'Ufficio di Piano»: campo obbligatorio"):
        load_district(folder)


def test_a_missing_file_is_reported_in_italian(tmp_path):
    folder = _copy(tmp_path)
    (folder / "providers.csv").unlink()
    with pytest.raises(ValueError, match="file mancante nella cartella dell'ambito: providers.csv"):
        load_district(folder)
