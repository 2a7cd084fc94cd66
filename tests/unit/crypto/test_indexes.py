"""Blind indexes: normalisation and separation by pepper and purpose."""
import pytest

from whistle.crypto import blind_index

PEPPER = bytes(range(32))


def test_equal_after_normalisation():
    expected = blind_index("e12345", PEPPER, purpose="personnel-number")
    assert len(expected) == 32
    for variant in ("E12345", "  e12345\n", "\te12345 "):
        assert blind_index(variant, PEPPER, purpose="personnel-number") == expected


def test_unicode_normalisation():
    composed = blind_index("Jos\u00e9", PEPPER, purpose="name")
    assert blind_index("JOSE\u0301", PEPPER, purpose="name") == composed
    assert blind_index("STRASSE", PEPPER, purpose="name") == blind_index("straße", PEPPER, purpose="name")


def test_different_values_purposes_and_peppers_differ():
    base = blind_index("E12345", PEPPER, purpose="personnel-number")
    assert blind_index("E12346", PEPPER, purpose="personnel-number") != base
    assert blind_index("E12345", PEPPER, purpose="payroll-number") != base
    assert blind_index("E12345", bytes(32), purpose="personnel-number") != base
    # Purposes longer than the 16-byte personalisation limit still work and still differ.
    long_a = blind_index("E12345", PEPPER, purpose="a-very-long-purpose-name-number-one")
    long_b = blind_index("E12345", PEPPER, purpose="a-very-long-purpose-name-number-two")
    assert long_a != long_b


def test_bad_arguments():
    with pytest.raises(ValueError):
        blind_index("E1", b"short", purpose="p")
    with pytest.raises(ValueError):
        blind_index("E1", PEPPER, purpose="")
