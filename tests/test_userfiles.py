"""The shared reader of user-written files, as used by settings and the RFM rule files."""

import os
import re

import pytest

from workbench._userfiles import MAX_BYTES, UserFileError, read_text, short
from workbench.cli import main
from workbench.errors import InputError
from workbench.i18n import set_language
from workbench.rfm import load_tier_rules
from workbench.settings import load_settings


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language(None)


def test_short_cuts_long_values():
    assert short("abc") == "'abc'"
    assert short("x" * 100) == "'" + "x" * 35 + "...'"
    assert len(short(list(range(100)), 80)) == 80


def test_folders_and_fifos_are_refused_without_blocking(tmp_path):
    with pytest.raises(UserFileError, match=re.escape(
            f"file '{tmp_path}': this is a folder or a special file, not a regular file; give "
            "the path of the file itself.")):
        read_text(tmp_path)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UserFileError, match="not a regular file"):
        read_text(fifo)
    with pytest.raises(UserFileError, match=r"cannot be opened \(No such file or directory\)"):
        read_text(tmp_path / "missing.yaml")


@pytest.mark.parametrize(("content", "detail"), [
    ("[workbench]\nlanguage = '한국어'\n".encode("cp949"),
     "line 2: byte 24 (c7 d1 b1 b9) is not UTF-8, so the file is binary or in another encoding "
     "such as CP949; save it as UTF-8 text"),
    (b"# " + b"x" * MAX_BYTES,
     f"the file is {MAX_BYTES + 2} bytes, more than the limit of {MAX_BYTES} bytes for a "
     "definition; check that this is the right file (definitions are a few kilobytes)"),
    (b"[workbench]\nstore = [" + b"[" * 100_000,
     "lists and mappings are nested more than 50 levels deep; flatten the structure"),
    (b"[workbench]\nlanguage = en\n", "line 2: not valid TOML (Invalid value)"),
], ids=["cp949", "oversize", "deep", "syntax"])
def test_bad_settings_file_exits_2_with_a_sentence(tmp_path, capsys, content, detail):
    path = tmp_path / "workbench.toml"
    path.write_bytes(content)
    expected = (f"settings file '{path}': {detail}. Fix the file, or remove it to use the "
                "defaults.")
    with pytest.raises(InputError, match=re.escape(expected)):
        load_settings(path)
    code = main(["audience", "list", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "unexpected" not in err
    assert " ".join(err.split()) == "error: " + " ".join(expected.split())


def test_tier_rules_file_in_another_encoding(tmp_path):
    path = tmp_path / "tiers.toml"
    path.write_bytes('[[tier]]\nid = "gold"\nlabel = { en = "Gold", ko = "골드" }\n'.encode(
        "cp949"))
    with pytest.raises(InputError, match=re.escape(
            f"file '{path}': line 3: byte 50 (b0 f1 b5 e5) is not UTF-8")):
        load_tier_rules(path)
