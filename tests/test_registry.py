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


def test_an_unknown_name_suggests_the_closest_and_says_how_to_bring_your_own():
    reg = Registry("noise type")
    for name in ("char_typo", "random_replace", "truncate_front"):
        reg.add(name, name)
    with pytest.raises(AnitError) as raised:
        reg.get("char_typos")
    assert str(raised.value) == ("unknown noise type 'char_typos'; known: char_typo, random_replace, truncate_front; "
                                 "did you mean 'char_typo'? (your own: name the module that registers it with "
                                 "--plugins)")
    with pytest.raises(AnitError, match=r"; known: char_typo, random_replace, truncate_front \(your own"):
        reg.get("zzz")
    reg.add("tc", "tc")
    with pytest.raises(AnitError, match=r"did you mean 'tc'\?"):        # too short for a close match; same letters
        reg.get("TC")
