"""`geniot ask` finds its store the same way from any folder: --store, else $GENIOT_HOME's store,
else the demo's under $GENIOT_HOME, and says which rule chose it."""

from __future__ import annotations

import shutil

import pytest

from geniot.cli.ask_cmd import resolve_store
from geniot.core.exceptions import DataError
from geniot.core.settings import get_settings


@pytest.fixture()
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    (folder / "demo").mkdir(parents=True)
    monkeypatch.setenv("GENIOT_HOME", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def test_the_same_store_from_any_folder(home, small_plant, tmp_path, monkeypatch):
    path, _ = small_plant
    shutil.copy(path, home / "demo" / "plant.duckdb")
    for folder in (tmp_path, home, home / "demo"):
        monkeypatch.chdir(folder)
        found, rule = resolve_store(None)
        assert found == (home / "demo" / "plant.duckdb").resolve() and "demo" in rule and "$GENIOT_HOME" in rule
    # once the service has made a store in the home, it is used, and the rule says the demo's is there too
    shutil.copy(path, home / "plant.duckdb")
    found, rule = resolve_store(None)
    assert found == (home / "plant.duckdb").resolve() and "demo's store" in rule and "--store" in rule
    found, rule = resolve_store(home / "demo" / "plant.duckdb")
    assert found == (home / "demo" / "plant.duckdb").resolve() and rule == "--store"


def test_no_store_names_where_it_looked(home):
    with pytest.raises(DataError, match="geniot demo"):
        resolve_store(None)
    with pytest.raises(DataError, match="given with --store"):
        resolve_store(home / "missing.duckdb")
