"""The SEEMiS export catalogue: parsing of the CSV files a school drops in its folder (hand-made files)."""

from __future__ import annotations

from ingestion.seemis.exports import ATTENDANCE, PUPILS, TERMS, parse_file

ATT_HEADER = "Pupil ID,Date,Opening,Attendance Code\n"


def _rows(parsed):
    return [r for _, r in parsed.rows]


def test_dates_openings_and_codes_are_normalised():
    data = (ATT_HEADER + "101,03/12/2025,AM,10\n101,2025-12-03,Afternoon,2\n102,03/12/2025,1,32\n"
            "102,03/12/2025,2,02\n103,03/12/2025,Morning,11\n").encode()
    rows = _rows(parse_file(ATTENDANCE, "attendance_20251203.csv", data))
    assert [(r["attendance_date"], r["opening"], r["attendance_code"]) for r in rows] == [
        ("2025-12-03", "AM", "10"), ("2025-12-03", "PM", "02"), ("2025-12-03", "AM", "32"),
        ("2025-12-03", "PM", "02"), ("2025-12-03", "AM", "11"),
    ]
    assert rows[0]["record_id"] == "101:2025-12-03:AM"


def test_bom_header_case_and_spaces_and_quoted_fields():
    data = ("\ufeffpupil id , SCN,forename,SURNAME,Preferred_Name,Date of Birth,Gender,Stage,Reg Class,House\n"
            '7,123456789,"Ann, Marie",O\'Neil,,29/02/2012,F,S2,2B,Cruachan\n').encode("utf-8")
    parsed = parse_file(PUPILS, "pupils_x.csv", data)
    assert parsed.missing == [] and parsed.encoding == "utf-8"
    (row,) = _rows(parsed)
    assert row["pupil_id"] == "7" and row["forename"] == "Ann, Marie" and row["date_of_birth"] == "2012-02-29"
    assert row["record_id"] == "7" and row["preferred_name"] is None


def test_a_windows_file_is_read_as_cp1252(caplog):
    data = ("Pupil ID,SCN,Forename,Surname,Preferred Name,Date of Birth,Gender,Stage,Reg Class,House\n"
            "8,,Siobhán,MacLeòid,,01/01/2012,F,S2,2B,\n").encode("cp1252")
    parsed = parse_file(PUPILS, "pupils_w.csv", data)
    assert parsed.encoding == "cp1252"
    assert _rows(parsed)[0]["forename"] == "Siobhán" and _rows(parsed)[0]["surname"] == "MacLeòid"
    assert "cp1252" in caplog.text


def test_bad_rows_are_named_by_file_line_and_column_without_their_value():
    data = (ATT_HEADER + "101,03/12/2025,AM,10\n"  # line 2 good
            "101,31/02/2025,AM,10\n"  # 3 no such date
            "101,03/12/2025,Evening,10\n"  # 4 unknown opening
            "101,03/12/2025,PM,L\n"  # 5 code not numeric
            ",03/12/2025,PM,10\n"  # 6 no pupil
            "101,03/12/2025,PM\n"  # 7 a field short
            "102,03/12/2025,PM,10\n").encode()  # 8 good
    parsed = parse_file(ATTENDANCE, "attendance_a.csv", data)
    assert [line for line, _ in parsed.rows] == [2, 8]
    assert [(b.line, b.rule) for b in parsed.bad] == [
        (3, "parse:date"), (4, "parse:opening"), (5, "parse:code"), (6, "structure:empty"),
        (7, "structure:field_count"),
    ]
    assert parsed.bad[2].reason.startswith("file attendance_a.csv, line 5, column Attendance Code")
    assert "Evening" not in parsed.bad[1].reason and "31/02" not in parsed.bad[0].reason


def test_a_renamed_header_is_missing_and_extra_columns_are_kept():
    parsed = parse_file(TERMS, "terms_1.csv", b"Session,Term Name,Start Date,End Date\n2025/26,1,18/08/2025,10/10/2025\n")
    assert parsed.missing == ["Term"] and parsed.rows == []
    parsed = parse_file(TERMS, "terms_1.csv",
                        b"Session,Term,Start Date,End Date,Term Type\n2025/26,1,18/08/2025,10/10/2025,Normal\n")
    (row,) = _rows(parsed)
    assert parsed.extra == ["term_type"] and row["term_type"] == "Normal"
    assert (row["record_id"], row["end_date"]) == ("2025/26:1", "2025-10-10")
