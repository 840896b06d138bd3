"""The one name rule and the one path helper."""

from pathlib import Path

import pytest

from geniot.core.names import (
    InvalidNameError,
    check_name,
    is_valid_name,
    path_under,
    safe_component,
)

GOOD = ["P-1", "bearing_temp_c", "speed rpm", "site:a", "x", "_hidden", "model.v2", "a" * 128]
BAD = [".", "..", "...", "", "a/b", "a\\b", "../x", "x\n", "a\x00b", "tab\tname", " lead", "trail ", "end.",
       "a" * 129, "ü-umlaut", "/abs", "é"]


@pytest.mark.parametrize("name", GOOD)
def test_good_names_pass(name):
    assert check_name(name) == name
    assert is_valid_name(name)


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_with_the_kind(name):
    with pytest.raises(InvalidNameError, match="asset"):
        check_name(name, "asset")
    assert not is_valid_name(name)


def test_non_text_is_refused():
    with pytest.raises(InvalidNameError, match="must be text"):
        check_name(3, "signal")


def test_path_under_builds_inside_and_refuses_escape(tmp_path: Path):
    assert path_under(tmp_path, "models", "m1") == tmp_path / "models" / "m1"
    for name in ("..", "../x", "a/../../b"):
        with pytest.raises(InvalidNameError):
            path_under(tmp_path, name)


def test_path_under_refuses_a_symlink_out(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "home"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InvalidNameError, match="outside"):
        path_under(root, "link", "m")


@pytest.mark.parametrize("raw", ["../../etc/x", "Temp [°C]", "..", "", " a b. ", "\n"])
def test_safe_component_always_passes_the_rule(raw):
    assert is_valid_name(safe_component(raw))
