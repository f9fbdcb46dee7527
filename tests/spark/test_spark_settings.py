"""The [spark] section of workbench.toml and the spark: store location."""

from __future__ import annotations

import pytest

from workbench.data.spark import _conf, is_spark, lake_path
from workbench.errors import InputError, ParameterError
from workbench.settings import Settings, SparkSettings, load_settings


def _write(tmp_path, text):
    path = tmp_path / "workbench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_local_quiet_and_loopback():
    conf = _conf(Settings())
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.driver.host"] == "127.0.0.1"
    assert conf["spark.sql.session.timeZone"] == "Asia/Seoul"


def test_section_is_read_beside_workbench(tmp_path):
    path = _write(tmp_path, '[workbench]\nstore = "spark:lake"\ntimezone = "UTC"\n'
                            '[spark]\nmaster = "local[1]"\nshuffle_partitions = 3\n'
                            'driver_memory = "1g"\n[spark.conf]\n"spark.executor.cores" = 2\n')
    settings = load_settings(path)
    assert settings.spark == SparkSettings(master="local[1]", driver_memory="1g",
                                           shuffle_partitions=3,
                                           conf=(("spark.executor.cores", "2"),))
    # a relative lake is relative to the settings file, as a DuckDB path is
    assert settings.store == f"spark:{tmp_path / 'lake'}"
    conf = _conf(settings)
    assert conf["spark.executor.cores"] == "2"
    assert conf["spark.sql.session.timeZone"] == "UTC"


@pytest.mark.parametrize("body, word", [
    ('[spark]\nmaster = ""\n', "master"),
    ('[spark]\nshuffle_partitions = 0\n', "shuffle_partitions"),
    ('[spark]\nshuffle_partitions = true\n', "shuffle_partitions"),
    ('[spark]\ndriver_memory = "lots"\n', "driver_memory"),
    ('[spark]\nretention_hours = -1\n', "retention_hours"),
    ('[spark]\nui = "yes"\n', "ui"),
    ('[spark]\nmasterr = "local"\n', "masterr"),
    ('[spark]\n[spark.conf]\n"executor.memory" = "4g"\n', "spark.*"),
])
def test_bad_values_name_the_key(tmp_path, body, word):
    path = _write(tmp_path, '[workbench]\ntimezone = "UTC"\n' + body)
    with pytest.raises(ParameterError) as info:
        load_settings(path)
    assert word in str(info.value)
    assert str(path) in str(info.value)


def test_locations():
    assert is_spark("spark:/data/lake") and not is_spark("data/workbench.duckdb")
    assert str(lake_path("spark:/data/lake")) == "/data/lake"
    assert str(lake_path("spark:///data/lake")) == "/data/lake"
    with pytest.raises(InputError):
        lake_path("spark:")
