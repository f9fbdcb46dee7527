"""Every hostile file and setting of the corpus gets a bounded, clear refusal (issue 13).

The corpus is built by ``tests/hostile/make_corpus.py`` (see there for the cases and their
classes). Each case runs the real command line against its own copy of a real store and must:
exit with the expected code; say what its case says; print no traceback, no "unexpected" and
none of the corpus's personal data; leave a refused store byte for byte as it was, with its
mode 0600 and no temporary copies; and leave no file a payload would create. Cases marked
``isolate`` run in a child process limited to 3 GiB of address space and 120 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.make_corpus import PII, Payload, build
from workbench.cli import main

HERE = Path(__file__).parent
MEMORY_LIMIT = 3 << 30


def _cases() -> list[dict]:
    """The case list, read from a quick build without the big bomb (ids only)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return build(Path(folder), bomb_gib=0.001)


CASES = _cases()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    build(folder)
    return folder


def _fill(argv: list[str], paths: dict[str, Path]) -> list[str]:
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _setup(name: str | None, paths: dict[str, Path]):
    """Prepare a case; return a cleanup callable."""
    models = paths["models"]
    if name == "protected_files":
        models.mkdir()
        (models / "churn.json").write_text('{"sha256": "0"}')
        paths["salt"].write_text("salt\n")
    elif name in ("tampered_model", "bad_sidecar"):
        from sklearn import __version__ as sklearn_version

        from workbench.churn.model import MODEL_FORMAT

        models.mkdir()
        payload = pickle.dumps(Payload(str(paths["work"] / "PWNED")))
        (models / "churn.skops").write_bytes(payload)
        sidecar = {"file": "churn.skops", "model_format": MODEL_FORMAT,
                   "sklearn_version": sklearn_version,
                   "sha256": hashlib.sha256(payload).hexdigest()}
        text = json.dumps(sidecar) if name == "tampered_model" else "{not json"
        (models / "churn.json").write_text(text)
    elif name == "held_lock":
        code = ("import fcntl, sys, time\n"
                "fh = open(sys.argv[1], 'a+'); fcntl.flock(fh, fcntl.LOCK_EX)\n"
                "print('held', flush=True); time.sleep(60)\n")
        proc = subprocess.Popen([sys.executable, "-c", code, str(paths["store"]) + ".lock"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        return lambda: (proc.kill(), proc.wait())
    return lambda: None


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_case(case, corpus, sample_store, tmp_path, capsys):
    home = tmp_path / "shop"
    home.mkdir()
    store = home / "shop.duckdb"
    shutil.copyfile(sample_store, store)
    store.chmod(0o600)
    config = home / "workbench.toml"
    config.write_text(f'[workbench]\nstore = "{store}"\nlock_timeout = 1\n', encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    paths = {"corpus": corpus, "store": store, "config": config, "work": work,
             "models": home / "models", "salt": home / ".salt"}
    cleanup = _setup(case["setup"], paths)
    before = store.read_bytes()
    argv = _fill(case["argv"], paths)
    try:
        if case["isolate"]:
            done = subprocess.run([sys.executable, "-m", "workbench.cli", *argv],
                                  capture_output=True, text=True, timeout=120,
                                  preexec_fn=_limit_memory, env={**os.environ, "LANG": "C.UTF-8"})
            code, out, err = done.returncode, done.stdout, done.stderr
        else:
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse refuses a bad argument before main runs it
                code = exc.code
            out, err = capsys.readouterr()
    finally:
        cleanup()
    said = " ".join((out + " " + err).split())
    assert code == case["exit"], said
    for words in case["says"]:
        assert words in said, said
    for words in ("Traceback", "unexpected", "report it"):
        assert words not in said
    for value in [*PII, "s3cr3t-pw"]:
        assert value not in said
    if case["store_unchanged"]:
        assert store.read_bytes() == before
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
        assert not [p.name for p in home.iterdir() if p.name.startswith(".shop.duckdb.")]
    for path in _fill(case["absent"], paths):
        assert not Path(path).exists()


def test_the_corpus_covers_every_class_of_the_issue():
    assert {c["class"] for c in CASES} == {"data_loss", "foreign_code", "personal_data",
                                           "resources", "accepted_then_broken",
                                           "unclear_failure", "operations"}
    assert len({c["id"] for c in CASES}) == len(CASES)


def test_the_bomb_is_a_real_bomb(corpus):
    """The XLSX in the corpus really expands to a gigabyte (a refusal of a dud proves nothing)."""
    import zipfile

    with zipfile.ZipFile(corpus / "xlsx_bomb.xlsx") as z:
        expanded = sum(i.file_size for i in z.infolist())
    assert (corpus / "xlsx_bomb.xlsx").stat().st_size < 3 << 20 and expanded > 1 << 30
