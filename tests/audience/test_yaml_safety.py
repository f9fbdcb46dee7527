"""Saved audience files are read with a bounded cost and refused with one clear paragraph.

Each hostile or broken file is refused by the shared reader (workbench._userfiles) with an
InputError naming the file, the line when known and the fix; the command line exits 2 without a
traceback, and ``audience list`` still lists the good files beside one line per bad file.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest

from workbench._userfiles import MAX_BYTES, MAX_DEPTH, MAX_NODES, UserFileError, parse_yaml
from workbench.audience import (
    AudienceDefinition,
    Condition,
    Group,
    load_definition,
    save_definition,
    saved_definitions,
)
from workbench.cli import main
from workbench.errors import InputError
from workbench.i18n import set_language

# "Billion laughs": nine levels of nine aliases would expand to 9**9 strings (about 1 GB).
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
GOOD = "name: {name}\nchannel: sms\nrules:\n  op: and\n  conditions:\n  - {{type: cart}}\n"

# id, file content, expected message after "audience definition '<path>': "
CASES = [
    ("alias_bomb", BOMB.encode(),
     "line 1: YAML anchors (&) and aliases (*) are not allowed; write the value out in full."),
    ("alias_merge", b"base: &b {type: cart}\nrules: {op: and, conditions: [{<<: *b}]}\n",
     "line 1: YAML anchors (&) and aliases (*) are not allowed; write the value out in full."),
    ("duplicate_key", b"name: bad\nchannel: sms\nname: other\n",
     "line 3: the key 'name' appears twice (first on line 1); keep one of them."),
    ("duplicate_in_flow", b"name: bad\nrules: {op: and, op: or}\n",
     "line 2: the key 'op' appears twice (first on line 2); keep one of them."),
    ("deep_nesting", b"name: bad\nrules: " + b"[" * 5000 + b"]" * 5000 + b"\n",
     f"line 2: lists and mappings are nested more than {MAX_DEPTH} levels deep; flatten the "
     "structure."),
    ("too_many_values", b"name: bad\nx: [" + b",".join([b"1"] * (MAX_NODES + 10)) + b"]\n",
     f"line 2: the file holds more than {MAX_NODES} values, more than any definition needs; "
     "check that this is the right file."),
    ("python_tag", b"!!python/object/apply:os.system ['echo hacked']\n",
     "line 1: the tag '!!python/object/apply:os.system' is not allowed (only texts, numbers, "
     "true/false, null, lists and mappings are); remove the tag."),
    ("python_name_tag", b"name: !!python/name:os.system\n",
     "line 1: the tag '!!python/name:os.system' is not allowed (only texts, numbers, "
     "true/false, null, lists and mappings are); remove the tag."),
    ("binary_tag", b"name: bad\ndescription: !!binary aGVsbG8=\n",
     "line 2: the tag '!!binary' is not allowed (only texts, numbers, true/false, null, lists "
     "and mappings are); remove the tag."),
    ("local_tag", b"name: bad\nrules: !group {op: and}\n",
     "line 2: the tag '!group' is not allowed (only texts, numbers, true/false, null, lists and "
     "mappings are); remove the tag."),
    ("cp949", "name: bad\ndescription: 서울 고객\n".encode("cp949"),
     "line 2: byte 23 (bc ad bf ef) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text."),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
     "line 1: byte 0 (89 50 4e 47) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text."),
    ("nul_bytes", b"name: bad\n\x00\x00\x00\x00",
     "line 2: the control character U+0000 is not allowed, so the file is not plain text; save "
     "it as UTF-8 text."),
    ("oversize", b"name: bad\n# " + b"x" * MAX_BYTES + b"\n",
     f"the file is {MAX_BYTES + 13} bytes, more than the limit of {MAX_BYTES} bytes for a "
     "definition; check that this is the right file (definitions are a few kilobytes)."),
    ("syntax", b"name: bad\nrules: [unclosed\n",
     "line 3: not valid YAML (expected ',' or ']', but got '<stream end>')."),
    ("bad_date", b"name: bad\ncreated_at: 2026-13-45\n",
     "audience 'bad': 'created_at' must be an ISO timestamp such as 2026-11-16T10:00:00+00:00; "
     "got '2026-13-45'."),
    ("not_a_mapping", b"- just\n- a list\n",
     "audience definition must be a mapping; got list."),
]
IDS = [c[0] for c in CASES]
FIX = " Fix the file, or delete it and save the audience again from the audience builder."


def _write(folder, name, content):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_bytes(content)
    return path


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language(None)


@pytest.mark.parametrize(("name", "content", "detail"), CASES, ids=IDS)
def test_bad_file_is_refused_with_file_line_and_fix(tmp_path, name, content, detail):
    path = _write(tmp_path, name, content)
    expected = f"audience definition '{path}': {detail[:-1]}.{FIX}"
    started = time.perf_counter()
    with pytest.raises(UserFileError, match=re.escape(expected)) as info:
        load_definition(name, tmp_path)
    assert time.perf_counter() - started < 2  # a sanity bound: the bomb is refused, not expanded
    assert isinstance(info.value, InputError)
    assert info.value.detail == detail[:-1]
    assert str(info.value) == expected


def test_messages_follow_the_language(tmp_path):
    path = _write(tmp_path, "bomb", BOMB.encode())
    set_language("ko")
    with pytest.raises(UserFileError) as info:
        load_definition("bomb", tmp_path)
    assert str(info.value) == (
        f"대상 그룹 정의 '{path}': 1번째 줄: YAML 앵커(&)와 별칭(*)은 허용되지 않습니다. 값을 "
        "그대로 풀어 쓰세요. 파일을 고치거나, 파일을 지운 뒤 대상 그룹 빌더에서 다시 저장하세요.")


def test_long_values_are_cut_in_messages(tmp_path):
    secret = "010-1234-5678 " * 20
    _write(tmp_path, "dup", f"name: dup\n{secret}: 1\n{secret}: 2\n".encode())
    with pytest.raises(UserFileError) as info:
        load_definition("dup", tmp_path)
    assert secret.strip() not in str(info.value)
    assert "the key '010-1234-5678 010-1234-5678 010-123...' appears twice" in str(info.value)
    _write(tmp_path, "late", f"name: late\ncreated_at: '{secret}'\n".encode())
    with pytest.raises(UserFileError, match=r"got '010-1234-5678 010-1234-5678 010-123\.\.\.'\."):
        load_definition("late", tmp_path)


def test_what_still_loads(tmp_path):
    # A byte-order mark, unquoted ISO dates and times (kept as text, then checked) and the core
    # tags are fine; dates never become date objects, so names and texts stay text.
    text = ("\ufeffname: ok\nchannel: !!str sms\ncreated_at: 2026-11-16T10:00:00+00:00\n"
            "description: 2026-11-16\nrules: {op: and, conditions: [{type: cart}]}\n")
    _write(tmp_path, "ok", text.encode())
    d = load_definition("ok", tmp_path)
    assert (d.description, d.created_at.isoformat()) == ("2026-11-16", "2026-11-16T10:00:00+00:00")
    assert parse_yaml("a: <<\nb: =\nc: 2026-01-01\n", source="x") == {
        "a": "<<", "b": "=", "c": "2026-01-01"}


def test_save_over_a_bad_file_is_refused_not_overwritten(tmp_path):
    path = _write(tmp_path, "mine", BOMB.encode())
    with pytest.raises(UserFileError, match="aliases"):
        save_definition(AudienceDefinition("mine", rules=Group()), tmp_path)
    assert path.read_bytes() == BOMB.encode()


def _folder_with_bad_files(tmp_path):
    folder = tmp_path / "audiences"
    for name in ("alpha", "omega"):
        save_definition(AudienceDefinition(name, rules=Group("and", (Condition.make("cart"),)),
                                           description=f"{name} audience"), folder)
    _write(folder, "bomb", BOMB.encode())
    _write(folder, "dup", b"name: dup\nname: again\n")
    _write(folder, "korean", "name: korean\ndescription: 서울\n".encode("cp949"))
    _write(folder, "late", b"name: late\ncreated_at: 2026-13-45\n")
    return folder


def test_saved_definitions_report_bad_files_as_data(tmp_path):
    folder = _folder_with_bad_files(tmp_path)
    found = {s.path.stem: s for s in saved_definitions(folder)}
    assert sorted(found) == ["alpha", "bomb", "dup", "korean", "late", "omega"]
    assert [n for n, s in found.items() if s.definition] == ["alpha", "omega"]
    assert found["bomb"].problem == ("line 1: YAML anchors (&) and aliases (*) are not allowed; "
                                     "write the value out in full")
    assert found["dup"].problem.startswith("line 2: the key 'name' appears twice")
    assert found["korean"].problem.startswith("line 2: byte 26 (bc ad bf ef) is not UTF-8")
    assert found["late"].problem.startswith("audience 'late': 'created_at' must be an ISO")


def test_cli_list_shows_good_files_and_one_line_per_bad_file(tmp_path, capsys):
    folder = _folder_with_bad_files(tmp_path)
    code = main(["audience", "list", "--store", str(tmp_path / "workbench.duckdb")])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Saved audiences in {folder}: 6"
    assert [line.split()[0] for line in lines[1:7]] == [
        "alpha", "bomb.yaml:", "dup.yaml:", "korean.yaml:", "late.yaml:", "omega"]
    assert "alpha audience" in lines[1] and "omega audience" in lines[6]
    assert lines[2] == ("  bomb.yaml: invalid file: line 1: YAML anchors (&) and aliases (*) "
                        "are not allowed; write the value out in full. Fix or delete it.")
    assert lines[7].startswith("Recipes: ")


def test_ui_start_picker_marks_bad_files(tmp_path):
    from workbench.ui.audience import AudienceBuilder

    folder = _folder_with_bad_files(tmp_path)
    options = AudienceBuilder._options(SimpleNamespace(language="en", folder=folder))
    saved = [label for label, _ in options if label.startswith("Saved")]
    assert saved == ["Saved: alpha", "Saved: bomb (invalid file)", "Saved: dup (invalid file)",
                     "Saved: korean (invalid file)", "Saved: late (invalid file)",
                     "Saved: omega"]


@pytest.mark.parametrize(("name", "content", "detail"), CASES, ids=IDS)
def test_cli_show_exits_2_with_one_paragraph(tmp_path, capsys, name, content, detail):
    _write(tmp_path / "audiences", name, content)
    code = main(["audience", "show", name, "--store", str(tmp_path / "workbench.duckdb")])
    out, err = capsys.readouterr()
    flat = " ".join(err.split())
    assert code == 2 and out == ""
    assert flat.startswith("error: audience definition '") and f"{name}.yaml" in flat
    assert "Traceback" not in err and "unexpected" not in err and "report it" not in err
    assert "\n\n" not in err.strip() and len(err) < 800  # one short paragraph, no file dump
    assert flat.endswith(" ".join((detail[:-1] + "." + FIX).split()))


@pytest.mark.parametrize(("content", "start"), [
    (b"description: no name\n", "audience definition has no 'name'; add one such as "),
    (b"name: bad\nrules: {conditions: [{type: [cart]}]}\n",
     "audience 'bad': rules, item 1: unknown condition type ['cart']; known: "),
    (b"name: bad\nrules: {conditions: [{type: cart, 0: 1}]}\n",
     "audience 'bad': rules, item 1: condition 'cart': unknown field(s) ['0']; allowed: "),
], ids=["no_name", "list_type", "number_key"])
def test_odd_shapes_are_input_errors(tmp_path, content, start):
    # Found by mutating the recipes at random: these raised TypeError (exit 1) before.
    _write(tmp_path, "odd", content)
    with pytest.raises(UserFileError) as info:
        load_definition("odd", tmp_path)
    assert info.value.detail.startswith(start)
