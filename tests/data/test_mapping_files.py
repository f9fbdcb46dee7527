"""Mapping files (YAML and TOML) are read with a bounded cost and refused with one paragraph."""

import re

import pytest

from workbench._userfiles import MAX_BYTES, MAX_DEPTH, UserFileError
from workbench.cli import main
from workbench.data.mappings import load_mapping
from workbench.errors import ParameterError
from workbench.i18n import set_language

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
GOOD_YAML = "name: mini\nfields:\n  order_id: {column: 번호}\ntables:\n  orders: {}\n"

# id, file name, content, expected detail (between "mapping '<path>': " and the README hint)
CASES = [
    ("yaml_alias_bomb", "m.yaml", BOMB.encode(),
     "line 1: YAML anchors (&) and aliases (*) are not allowed; write the value out in full"),
    ("yaml_duplicate_key", "m.yaml",
     b"name: mini\nfields:\n  order_id: {column: a}\n  order_id: {column: b}\n",
     "line 4: the key 'order_id' appears twice (first on line 3); keep one of them"),
    ("yaml_python_tag", "m.yml", b"name: !!python/object/new:os.system [ls]\n",
     "line 1: the tag '!!python/object/new:os.system' is not allowed (only texts, numbers, "
     "true/false, null, lists and mappings are); remove the tag"),
    ("yaml_deep", "m.yaml", b"fields: " + b"[" * 3000 + b"]" * 3000 + b"\n",
     f"line 1: lists and mappings are nested more than {MAX_DEPTH} levels deep; flatten the "
     "structure"),
    ("yaml_cp949", "m.yaml", GOOD_YAML.encode("cp949"),
     "line 3: byte 40 (b9 f8 c8 a3) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text"),
    ("toml_cp949", "m.toml", '[fields]\norder_id = "번호"\n'.encode("cp949"),
     "line 2: byte 21 (b9 f8 c8 a3) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text"),
    ("toml_binary", "m.toml", bytes(range(128, 256)),
     "line 1: byte 0 (80 81 82 83) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text"),
    ("toml_deep", "m.toml", b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
     f"lists and mappings are nested more than {MAX_DEPTH} levels deep; flatten the structure"),
    ("toml_deep_but_parsable", "m.toml", b"x = " + b"[" * 60 + b"]" * 60 + b"\n",
     f"lists and mappings are nested more than {MAX_DEPTH} levels deep; flatten the structure"),
    ("toml_syntax", "m.toml", b'name = "mini"\n[fields]\norder_id = { column = "a" \n',
     "line 3: not valid TOML (Unclosed inline table)"),
    ("toml_duplicate_key", "m.toml", b'name = "a"\nname = "b"\n',
     "line 2: not valid TOML (Cannot overwrite a value)"),
    ("toml_oversize", "m.toml", b"# " + b"x" * MAX_BYTES + b"\n",
     f"the file is {MAX_BYTES + 3} bytes, more than the limit of {MAX_BYTES} bytes for a "
     "definition; check that this is the right file (definitions are a few kilobytes)"),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language(None)


@pytest.mark.parametrize(("name", "file", "content", "detail"), CASES, ids=IDS)
def test_bad_mapping_file_is_refused_with_file_line_and_fix(tmp_path, name, file, content,
                                                             detail):
    path = tmp_path / file
    path.write_bytes(content)
    expected = f"mapping '{path}': {detail}. See data/mappings/README.md for the format."
    with pytest.raises(UserFileError, match=re.escape(expected)) as info:
        load_mapping(path)
    assert isinstance(info.value, ParameterError) and str(info.value) == expected


def test_yaml_mapping_keeps_dates_and_bom_as_text(tmp_path):
    from workbench.data.mappings import _read_mapping_file

    path = tmp_path / "m.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_YAML.replace("번호", "2024-01-01").encode())
    assert _read_mapping_file(path)["fields"] == {"order_id": {"column": "2024-01-01"}}


@pytest.mark.parametrize(("name", "file", "content", "detail"), CASES, ids=IDS)
def test_cli_load_exits_2_with_one_paragraph(tmp_path, capsys, name, file, content, detail):
    mapping = tmp_path / file
    mapping.write_bytes(content)
    data = tmp_path / "orders.csv"
    data.write_text("번호\n1\n", encoding="utf-8")
    code = main(["load", "orders", str(data), "--mapping", str(mapping),
                 "--store", str(tmp_path / "shop.duckdb")])
    out, err = capsys.readouterr()
    flat = " ".join(err.split())
    assert code == 2, err
    assert "Traceback" not in err and "unexpected" not in err and "\n\n" not in err.strip()
    assert flat.endswith(" ".join(f"{detail}. See data/mappings/README.md for the "
                                  "format.".split()))
    assert len(err) < 800
