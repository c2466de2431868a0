import pytest

from anit.errors import AnitError
from anit.registry import Registry


def test_register_get_and_unknown_lists_known_names():
    reg = Registry("widget")

    @reg.register("b")
    def b():
        return 2

    reg.add("a", 1)
    assert reg.get("b") is b and reg.get("a") == 1
    assert reg.names() == ["b", "a"] and "a" in reg
    with pytest.raises(AnitError, match=r"unknown widget 'c'; known: a, b"):
        reg.get("c")
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", 3)
