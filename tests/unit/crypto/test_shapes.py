"""The shapes the server checks on what an end-to-end client sends (docs/crypto.md 5.1, 5.2, 7.1)."""
from __future__ import annotations

import pytest

from whistle import crypto

KEYS = crypto.KeyPair.generate()


@pytest.mark.parametrize("size", [0, 1, 255, 256, 1000, 65536])
def test_an_item_is_as_long_as_item_size_says_and_fits_its_limit(size):
    item = crypto.encrypt_item(KEYS.public, b"x" * size, case="C", kind="message", author="reporter")
    assert len(item) == crypto.item_size(size)
    assert crypto.is_item_of_size(item, size)
    assert crypto.is_item_of_size(item, size + 256)
    assert not crypto.is_item_of_size(item, size - 256) or size < 256


def test_an_item_of_another_shape_is_not_one():
    item = crypto.encrypt_item(KEYS.public, b"text", case="C", kind="message", author="reporter")
    assert not crypto.is_item_of_size(item[:-1], 1000)
    assert not crypto.is_item_of_size(b"\x01" + item[1:], 1000), "version 1: its author is not bound"
    assert not crypto.is_item_of_size(b"\x02\x03" + item[2:], 1000), "a stream's header"


def test_a_sealed_key_is_82_bytes_with_the_sealed_header():
    sealed = crypto.seal(KEYS.public, bytes(32))
    assert crypto.SEALED_KEY_SIZE == len(sealed) == 82 and crypto.is_sealed_key(sealed)
    assert not crypto.is_sealed_key(sealed[:-1])
    assert not crypto.is_sealed_key(crypto.seal(KEYS.public, bytes(33)))
    assert not crypto.is_sealed_key(b"\x02" + sealed[1:])
