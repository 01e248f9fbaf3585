"""Export readers: calls/list CSV and JSON, localised web exports, encodings, bad rows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.errors import InputError
from ringodesk_cli.ringostat.exports import detect_encoding, file_digest, read_export
from ringodesk_cli.ringostat.records import BadRow, CallRecord, Direction, Outcome

DATA = Path(__file__).parent / "data"
KYIV = ZoneInfo("Europe/Kyiv")
HEADER = "uniqueid;calldate;call_type;disposition;caller;dst;billsec;duration"


def read(path: Path, columns: Mapping[str, str] | None = None) -> list[CallRecord | BadRow]:
    return list(read_export(path, timezone=KYIV, default_region="UA", columns=columns or {}))


def records(items: list[CallRecord | BadRow]) -> list[CallRecord]:
    return [r for r in items if isinstance(r, CallRecord)]


def bad(items: list[CallRecord | BadRow]) -> list[BadRow]:
    return [r for r in items if isinstance(r, BadRow)]


def write(tmp_path: Path, text: str, name: str = "calls.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_calls_list_json_array_is_read_with_numbers_and_nulls_as_text() -> None:
    items = read(DATA / "ringostat_calls.json")
    calls = records(items)
    assert [c.ringostat_id for c in calls] == ["ua-987h79879", "1700000000.1234", "ua-callback-1"]
    first = calls[0]
    assert (first.talk_seconds, first.total_seconds) == (184, 196)
    assert first.extra["proper_flag"] == "1" and first.extra["has_recording"] == "1"
    assert first.employee is not None and first.employee.number == "101"
    assert first.line == 2
    assert calls[1].direction is Direction.OUTBOUND and calls[1].disposition == "NO ANSWER"
    assert calls[1].employee is not None and calls[1].employee.sip == "petro_sip"
    assert calls[2].missed and calls[2].disposition == "CLIENT NO ANSWER"


def test_json_bad_item_is_named_by_index_id_and_the_line_it_starts() -> None:
    (row,) = bad(read(DATA / "ringostat_calls.json"))
    assert row.item == 2
    assert str(row).endswith(
        "ringostat_calls.json: item 2 (id ua-bad-date, line 42): calldate: "
        "'2024-13-01 10:00' is not a date like "
        "2024-05-01 10:00:00 (or 01.05.2024 10:00:00)"
    )
    assert row.ringostat_id == "ua-bad-date"


def test_russian_web_export_in_cp1251_with_commas() -> None:
    path = DATA / "ringostat_web_ru_cp1251.csv"
    assert detect_encoding(path) == "cp1251"
    calls = records(read(path))
    assert [c.ringostat_id for c in calls] == ["ru-1", "ru-2", "ru-3"]
    ru1, ru2, ru3 = calls
    assert ru1.client_number == "+380671234567" and ru1.outcome is Outcome.ANSWERED
    assert ru1.total_seconds == 196
    assert ru1.employee is not None and ru1.employee.name == "Анна Коваленко"
    assert ru1.utm["utm_source"] == "google"
    assert ru1.extra["Комментарий"] == "Хочет кухню, перезвонить"
    assert ru2.missed
    assert ru3.direction is Direction.OUTBOUND and ru3.our_number == "petro_sip"


def test_ukrainian_web_export_with_bom_and_semicolons() -> None:
    path = DATA / "ringostat_web_uk_bom.csv"
    assert detect_encoding(path) == "utf-8-sig"
    uk1, uk2 = records(read(path))
    assert uk1.ringostat_id == "uk-1"  # the BOM does not stick to the first header
    assert uk1.call_card_url == "https://app.example.com/call-card/uk-1"
    assert uk1.recording_url == "https://recordings.example.com/uk-1.mp3"
    assert uk1.extra["Мітка"] == "VIP"
    assert uk2.missed and uk2.client_number == "+380962223344"


def test_english_web_export_with_labels_for_types_and_statuses() -> None:
    path = DATA / "ringostat_web_en.csv"
    assert detect_encoding(path) == "utf-8"
    en1, en2, en3 = records(read(path))
    assert en1.direction is Direction.OUTBOUND and en1.outcome is Outcome.ANSWERED
    assert en1.employee is not None and en1.employee.keys() == ("olena_sip", "Olena Bondar")
    assert en2.call_type == "callback" and en2.disposition == "CLIENT NO ANSWER" and en2.missed
    assert en2.google_client_id == "902211334.1715671111"
    assert dict(en2.utm) == {
        "utm_source": "facebook",
        "utm_medium": "paid_social",
        "utm_campaign": "spring_sale",
    }
    assert en3.disposition == "REPEATED" and en3.outcome is Outcome.ANSWERED


def test_calls_list_csv_with_commas_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.replace(";", ",") + "\nx1,2024-05-14 10:00:00,in,BUSY,"
                 '"+38 (067) 123-45-67",0443334455,0,9\n')  # fmt: skip
    (call,) = read(path)
    assert isinstance(call, CallRecord) and call.client_number == "+380671234567"


def test_utf8_without_bom_that_turns_cyrillic_late_is_still_utf8(tmp_path: Path) -> None:
    ascii_rows = [f"id{i};2024-05-14 10:00:00;in;ANSWERED;0671234567;;5;9;" for i in range(5000)]
    late = "last;2024-05-14 10:00:00;in;ANSWERED;0671234567;;5;9;Олена"
    path = write(tmp_path, HEADER + ";employee_fio\n" + "\n".join([*ascii_rows, late]) + "\n")
    assert path.stat().st_size > 200_000  # the first Cyrillic byte lies past any sample
    assert detect_encoding(path) == "utf-8"
    last = read(path)[-1]
    assert isinstance(last, CallRecord) and last.employee is not None
    assert last.employee.name == "Олена"


def test_profile_columns_map_unknown_headers(tmp_path: Path) -> None:
    text = ("Call ID;Date;Call type;Status;Client phone;Destination\n"
            "c1;2024-05-14 10:00:00;in;NO ANSWER;0671234567;0443334455\n")  # fmt: skip
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"calls\.csv: no column for 'caller'"):
        read(path)
    (call,) = read(path, columns={"client phone": "caller"})
    assert isinstance(call, CallRecord) and call.client_number == "+380671234567"


def test_profile_columns_win_over_the_alias_table(tmp_path: Path) -> None:
    text = HEADER + ";Источник\nc1;2024-05-14 10:00:00;in;BUSY;0671234567;;0;3;Google Ads\n"
    (default,) = records(read(write(tmp_path, text)))
    assert default.utm == {"utm_source": "Google Ads"}
    (mapped,) = records(read(write(tmp_path, text), columns={"Источник": "pool_name"}))
    assert dict(mapped.utm) == {} and mapped.extra["pool_name"] == "Google Ads"


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "uniqueid;caller;dst;call_type;disposition\nx;0671234567;;in;BUSY\n")
    with pytest.raises(InputError) as caught:
        read(path)
    assert str(path) in str(caught.value) and "'calldate'" in str(caught.value)
    assert caught.value.hint is not None and "[source.columns]" in caught.value.hint


def test_json_without_a_required_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps([{"uniqueid": "x", "caller": "0671234567"}]), "c.json")
    with pytest.raises(InputError, match="no column for 'calldate'"):
        read(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"uniqueid": "x"}', "JSON object"),
        ('[{"uniqueid": "x", ', "broken JSON|not closed"),
        ("[\n\n", "not closed"),
    ],
)
def test_broken_json_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(write(tmp_path, text, "c.json"))


def test_json_item_that_is_not_an_object_is_a_bad_row(tmp_path: Path) -> None:
    call = {"uniqueid": "x", "calldate": "2024-05-14 10:00:00", "call_type": "in",
            "disposition": "BUSY", "caller": "0671234567", "dst": ""}  # fmt: skip
    text = "[\n" + json.dumps(call) + ",\n42,\n" + json.dumps({**call, "uniqueid": "y"}) + "\n]"
    items = read(write(tmp_path, text, "c.json"))
    assert [type(i).__name__ for i in items] == ["CallRecord", "BadRow", "CallRecord"]
    assert items[1].line == 3


def test_bad_rows_carry_file_line_field_and_the_rest_is_read(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            "a1;2024-05-14 10:00:00;in;ANSWERED;0671234567;;5;9",
            ";2024-05-14 10:00:00;in;ANSWERED;0671234567;;5;9",
            'a3;2024-05-14 10:00:00;in;ANSWERED;"067\n123";;5;9',
            "a4;2024-13-01 10:00;in;ANSWERED;0671234567;;5;9",
            "",
            "a6;2024-05-14 10:00:00;in;PICKED UP;0671234567;;5;9",
            "a7;2024-05-14 10:00:00;in;BUSY;0671234567;;0;9;extra;values",
            "a8;2024-05-14 10:00:00;in;ANSWERED;0671234567",
        ]
    )
    path = write(tmp_path, text + "\n")
    items = read(path)
    assert [(type(i).__name__, i.line) for i in items] == [
        ("CallRecord", 2),
        ("BadRow", 3),
        ("BadRow", 4),
        ("BadRow", 6),
        ("BadRow", 8),
        ("BadRow", 9),
        ("BadRow", 10),
    ]
    reasons = {b.line: (b.ringostat_id, b.field) for b in bad(items)}
    assert reasons == {
        3: (None, "uniqueid"),
        4: ("a3", "caller"),
        6: ("a4", "calldate"),
        8: ("a6", "disposition"),
        9: ("a7", None),
        10: ("a8", None),
    }
    assert bad(items)[-1].reason == "5 values for 8 columns (a value or a ';' missing?)"
    assert (
        str(bad(items)[2]) == f"{path}:6: calldate: '2024-13-01 10:00' is not a date like "
        "2024-05-01 10:00:00 (or 01.05.2024 10:00:00)"
    )


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    assert read(write(tmp_path, "\n  \n")) == []


def test_header_only_file_yields_nothing(tmp_path: Path) -> None:
    assert read(write(tmp_path, HEADER + "\n")) == []


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read(tmp_path / "missing.csv")


def test_file_digest_is_the_sha256_of_the_content(tmp_path: Path) -> None:
    path = write(tmp_path, "x" * 200_000)
    assert file_digest(path) == hashlib.sha256(b"x" * 200_000).hexdigest()
    assert file_digest(DATA / "ringostat_web_en.csv") != file_digest(path)


@pytest.mark.parametrize("delimiter", [";", ","])
def test_a_value_over_the_csv_field_limit_is_a_bad_row_naming_line_and_field(
    tmp_path: Path, delimiter: str
) -> None:
    """The csv module refuses a field over 131,072 characters; the row is reported with its
    file, line and column (found again in the raw text, quotes and all), and reading goes on.
    """
    header = "uniqueid;calldate;call_type;disposition;caller;dst;billsec;duration;landing;utm_term"

    def row(n: int, landing: str, term: str) -> str:
        cells = [f"ua-{n}", f"2024-05-14 09:1{n}:00", "in", "ANSWERED", "0671234567",
                 "0443334455", "10", "20", landing, term]  # fmt: skip
        return delimiter.join(cells)

    huge = '"https://b.example/?q=' + "a" * 140_000 + '"'
    # Before the huge value, a quoted one holding the delimiter and a doubled quote.
    tricky = f'"say ""hi""{delimiter} twice"'
    rows = [row(1, "https://a.example", "x"), row(2, tricky, huge), row(3, "", "y")]
    lines = [header.replace(";", delimiter), *rows]
    path = write(tmp_path, "\n".join(lines) + "\n")
    items = read(path)
    assert [r.ringostat_id for r in records(items)] == ["ua-1", "ua-3"]
    (row,) = bad(items)
    assert (row.source, row.line, row.ringostat_id, row.field) == (str(path), 3, None, "utm_term")
    assert (
        str(row) == f"{path}:3: utm_term: longer than the csv module's limit of 131072 characters"
    )


# -- encodings decided per file, bad input refused per row or per file -----------------------
ROW = "{id};2024-05-14 10:00:00;in;ANSWERED;0671234567;0443334455;5;9;{name}"
NAMED = HEADER + ";employee_fio"


def test_a_few_bad_bytes_in_utf8_quarantine_their_rows_and_the_rest_stays_utf8(
    tmp_path: Path,
) -> None:
    lines = [NAMED, ROW.format(id="u1", name="Анна Коваленко"), ROW.format(id="u2", name="X"),
             ROW.format(id="u3", name="Петро")]  # fmt: skip
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    broken = raw.replace(b";X\n", b";Ol\xffga\n")
    path = tmp_path / "calls.csv"
    path.write_bytes(broken)
    assert detect_encoding(path) == "utf-8"
    items = read(path)
    names = [c.extra["employee_fio"] for c in records(items)]
    assert names == ["Анна Коваленко", "Петро"]  # not cp1251 mojibake
    (row,) = bad(items)
    offset = broken.index(b"\xff")
    assert (row.line, row.ringostat_id, row.field) == (3, "u2", "employee_fio")
    assert row.reason == f"invalid UTF-8 at byte {offset} (0xFF)"
    assert str(row) == f"{path}:3: employee_fio: invalid UTF-8 at byte {offset} (0xFF)"


def test_cp1251_only_when_the_file_is_cp1251_throughout(tmp_path: Path) -> None:
    lines = [NAMED, ROW.format(id="c1", name="Анна Коваленко"),
             ROW.format(id="c2", name="Сергій Їжак")]  # fmt: skip
    path = write(tmp_path, "\n".join(lines) + "\n", encoding="cp1251")
    assert detect_encoding(path) == "cp1251"
    assert [c.extra["employee_fio"] for c in records(read(path))] == [
        "Анна Коваленко",
        "Сергій Їжак",
    ]


def test_latin1_bytes_are_not_mistaken_for_cp1251(tmp_path: Path) -> None:
    """Stray high bytes that form no Cyrillic words: the rows are refused, not garbled."""
    lines = [NAMED, ROW.format(id="l1", name="Jürgen"), ROW.format(id="l2", name="Bob")]
    path = write(tmp_path, "\n".join(lines) + "\n", encoding="latin-1")
    assert detect_encoding(path) == "utf-8"
    items = read(path)
    assert [c.ringostat_id for c in records(items)] == ["l2"]
    assert bad(items)[0].reason.startswith("invalid UTF-8 at byte")


def test_a_bad_byte_in_the_header_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(b"uniqueid;call\xffdate\n")
    with pytest.raises(InputError, match=r"header row holds invalid UTF-8 at byte 13"):
        read(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "looks like an Excel/zip file: export CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, r"old Excel \(\.xls\)"),
        (bytes(range(256)) * 4, r"not a text file \(binary content at byte 0\)"),
        (b"uniqueid;calldate\n\x01\x02\x03\x04\x05garbage\x06\x07", "not a text file"),
    ],
)
def test_a_file_that_is_no_text_export_is_refused_with_what_it_looks_like(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read(path)
    assert "[source.columns]" not in (caught.value.hint or "")


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a folder, not an export file"):
        read(tmp_path)


def test_json_null_is_an_empty_value_also_inside_objects(tmp_path: Path) -> None:
    call = {"uniqueid": "n1", "calldate": "2024-05-14 10:00:00", "call_type": "in",
            "disposition": "ANSWERED", "caller": "0671234567", "dst": None,
            "recording": {"url": None}, "utm_source": None, "tags": ["a", None]}  # fmt: skip
    (record,) = records(read(write(tmp_path, json.dumps([call]), "c.json")))
    assert record.recording_url is None
    assert record.our_number is None and "utm_source" not in record.utm
    assert record.extra["tags"] == '["a"]'


def test_json_unpaired_surrogate_escape_is_refused(tmp_path: Path) -> None:
    call = {"uniqueid": "s1", "calldate": "2024-05-14 10:00:00", "call_type": "in",
            "disposition": "ANSWERED", "caller": "0671234567", "dst": ""}  # fmt: skip
    text = json.dumps([call, {**call, "uniqueid": "s2"}]).replace(
        '"s2", "calldate"', '"s2", "note": "\\udc80", "calldate"'
    )
    items = read(write(tmp_path, text, "c.json"))
    assert [c.ringostat_id for c in records(items)] == ["s1"]
    (row,) = bad(items)
    assert (row.item, row.ringostat_id, row.field) == (1, "s2", "note")
    assert "unpaired surrogate" in row.reason


def test_a_one_megabyte_field_names_its_field(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    lines = [NAMED, ROW.format(id="b1", name=big), ROW.format(id="b2", name="ok")]
    items = read(write(tmp_path, "\n".join(lines) + "\n"))
    (row,) = bad(items)
    assert (row.line, row.field) == (2, "employee_fio")
    assert [c.ringostat_id for c in records(items)] == ["b2"]


def test_a_byte_cp1251_leaves_undefined_refuses_its_row(tmp_path: Path) -> None:
    lines = [NAMED, ROW.format(id="c1", name="Анна Коваленко"), ROW.format(id="c2", name="Олег@")]
    raw = ("\n".join(lines) + "\n").encode("cp1251").replace(b"@", b"\x98")
    path = tmp_path / "calls.csv"
    path.write_bytes(raw)
    items = read(path)
    assert [c.ringostat_id for c in records(items)] == ["c1"]
    offset = raw.index(b"\x98")
    assert bad(items)[0].reason == f"invalid cp1251 at byte {offset} (0x98)"


def test_the_offset_of_a_bad_byte_is_exact_after_many_chunks_of_cyrillic(tmp_path: Path) -> None:
    """Reading goes 64 KiB at a time; a character cut by a chunk's end must not shift it."""
    lines = [NAMED] + [ROW.format(id=f"m{i}", name="Ганна Ївга " * 9) for i in range(900)]
    lines.append(ROW.format(id="m-bad", name="Ганна BAD"))
    raw = ("\n".join(lines) + "\n").encode("utf-8").replace(b"BAD", b"\xc3(")
    path = tmp_path / "calls.csv"
    path.write_bytes(raw)
    assert len(raw) > 3 * 65536
    items = read(path)
    (row,) = bad(items)
    assert (row.ringostat_id, row.line) == ("m-bad", 902)
    offset = raw.index(b"\xc3(")
    assert row.reason == f"invalid UTF-8 at byte {offset} (0xC3)"
    assert len(records(items)) == 900


UK_TAB = (
    "ID дзвінка\tДата дзвінка\tТип дзвінка\tСтатус\tХто дзвонив\tКуди дзвонили\tЧас розмови"
    "\tТривалість\n"
    "x-1\t2024-05-14 11:02:33\tВхідний\tANSWERED\t0501112233\t0443334455\t61\t70\n"
    "x-2\t2024-05-14 11:30:00\tВихідний\tNO ANSWER\t0443334455\t0962223344\t0\t15\n"
)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excel_unicode_text_is_read_as_utf16_tab_separated(tmp_path: Path, encoding: str) -> None:
    # Excel's "Unicode text": a BOM (little-endian as Excel writes it; big-endian read too)
    raw = UK_TAB.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    path = tmp_path / "calls.txt"
    path.write_bytes(raw)
    assert detect_encoding(path) == "utf-16"
    first, second = records(read(path))
    assert (first.ringostat_id, first.talk_seconds, first.client_number) == (
        "x-1", 61, "+380501112233",
    )  # fmt: skip
    assert (second.direction, second.client_number) == (Direction.OUTBOUND, "+380962223344")
    assert first.line == 2 and second.line == 3


def test_an_unpaired_surrogate_in_utf16_refuses_its_row_only(tmp_path: Path) -> None:
    text = UK_TAB.replace("x-2\t", "x-\ud8002\t")
    path = tmp_path / "calls.txt"
    path.write_bytes(text.encode("utf-16", "surrogatepass"))
    items = read(path)
    assert [r.ringostat_id for r in records(items)] == ["x-1"]
    (row,) = bad(items)
    assert (row.line, row.field) == (3, "uniqueid")
    assert row.reason == "holds text that is not valid Unicode (an unpaired surrogate)"


def test_utf16_cut_in_the_middle_of_a_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calls.txt"
    path.write_bytes(UK_TAB.encode("utf-16") + b"\x41")
    with pytest.raises(InputError, match="UTF-16 text cut short"):
        read(path)


@pytest.mark.parametrize(
    "title",
    [
        "Журнал дзвінків\n",
        "Call log;01.05.2024 - 31.05.2024\n\n",
        '"Звіт ""Дзвінки"""\nПеріод: травень\n\n',
    ],
)
def test_a_title_above_the_header_is_skipped_and_lines_stay_true(
    tmp_path: Path, title: str
) -> None:
    rows = "a-1;2024-05-14 10:00:00;in;ANSWERED;0671234567;0443334455;5;9\n"
    path = write(
        tmp_path,
        title
        + HEADER
        + "\n"
        + rows
        + "a-2;2024-13-14 10:00:00;in;BUSY;0671234567;0443334455;0;4\n",
    )
    items = read(path)
    header_line = title.count("\n") + 1
    (call,) = records(items)
    assert (call.ringostat_id, call.line) == ("a-1", header_line + 1)
    (row,) = bad(items)
    assert (row.line, row.field) == (header_line + 2, "calldate")


def test_no_header_within_the_first_lines_names_what_the_first_line_holds(
    tmp_path: Path,
) -> None:
    title = "".join(f"title line {n}\n" for n in range(5))
    path = write(tmp_path, title + HEADER + "\n")
    with pytest.raises(InputError, match=r"no column for 'uniqueid'.*'title line 0'"):
        read(path)


def test_a_symlink_loop_is_named_as_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.symlink_to(second)
    second.symlink_to(first)
    with pytest.raises(InputError) as caught:
        read(first)
    assert caught.value.message == (
        f"{first}: a symbolic link that leads back to itself (a symlink loop), never to a "
        "file: point it at the export, or name the export itself"
    )
