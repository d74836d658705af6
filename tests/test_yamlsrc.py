"""The bounded YAML loader: alias bombs, deep nesting, duplicated keys, non-UTF-8 and huge files.

Each case must be refused with one located line, fast (the old loader expanded an alias bomb
without limit, hit RecursionError on deep nesting and let the last duplicated key win).
"""

from __future__ import annotations

import time

import pytest

from einsim.errors import EinsimError
from einsim.yamlsrc import MAX_DEPTH, MAX_FILE_BYTES, load_plain, load_yaml, load_yaml_file


def _bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


LOADERS = [pytest.param(load_yaml, id="load_yaml"), pytest.param(load_plain, id="load_plain")]


@pytest.mark.parametrize("load", LOADERS)
def test_alias_bomb_is_refused_quickly_with_the_first_alias(load) -> None:
    start = time.perf_counter()
    with pytest.raises(EinsimError, match="alias bomb") as info:
        load(_bomb(), "bomb.yaml")
    assert time.perf_counter() - start < 2.0
    assert str(info.value).startswith("bomb.yaml:2:")  # the first alias is on line 2
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("load", LOADERS)
def test_a_few_aliases_still_load(load) -> None:
    text = "base: &b {capacity_B: 16, width_bits: 64}\nother: *b\nlist: [*b, *b]\n"
    data = load(text, "ok.yaml")
    data = data.data if hasattr(data, "data") else data
    assert data["other"] == {"capacity_B": 16, "width_bits": 64}
    assert data["list"] == [data["other"], data["other"]]


@pytest.mark.parametrize("load", LOADERS)
def test_recursive_alias_is_refused(load) -> None:
    with pytest.raises(EinsimError, match="cycle"):
        load("a: &x [1, *x]\n", "cyc.yaml")


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize(
    "text, where",
    [
        ("[" * 100_000 + "]" * 100_000, "deep.yaml:1:101"),
        ("- " * 5000 + "1\n", "deep.yaml:1:201"),
        ("".join("  " * i + f"k{i}:\n" for i in range(150)), "deep.yaml:100:"),
    ],
    ids=["flow", "block-sequence", "block-mapping"],
)
def test_deep_nesting_is_refused_quickly(load, text: str, where: str) -> None:
    start = time.perf_counter()
    with pytest.raises(EinsimError, match=f"nested deeper than {MAX_DEPTH}") as info:
        load(text, "deep.yaml")
    assert time.perf_counter() - start < 2.0
    assert str(info.value).startswith(where)


def test_nesting_up_to_the_limit_loads() -> None:
    depth = MAX_DEPTH - 1
    assert load_plain("[" * depth + "]" * depth, "ok.yaml") is not None


@pytest.mark.parametrize("load", LOADERS)
def test_duplicated_key_names_both_places(load) -> None:
    with pytest.raises(EinsimError) as info:
        load("ranks:\n  M: 4\n  K: 2\n  M: 8\n", "dup.yaml")
    message = str(info.value)
    assert message.startswith("dup.yaml:4:3: duplicate key 'M'")
    assert "first given at line 2, column 3" in message


@pytest.mark.parametrize("load", LOADERS)
def test_non_scalar_key_is_refused(load) -> None:
    with pytest.raises(EinsimError, match="key must be a scalar") as info:
        load("{a: 1}: 2\n", "key.yaml")
    assert str(info.value).startswith("key.yaml:1:1")


def test_non_utf8_file_names_the_byte_offset(tmp_path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: x\nsource: caf".encode() + b"\xe9\n")
    with pytest.raises(EinsimError) as info:
        load_yaml_file(f)
    assert str(info.value) == f"{f}:2:12: not UTF-8 text: byte 0xe9 at byte offset 19 (save the file as UTF-8)"


def test_oversized_file_is_refused_before_reading(tmp_path) -> None:
    f = tmp_path / "big.yaml"
    with f.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(EinsimError, match="more than the limit"):
        load_yaml_file(f)


def test_folder_and_missing_file_are_one_line_errors(tmp_path) -> None:
    with pytest.raises(EinsimError, match="is a folder"):
        load_yaml_file(tmp_path)
    with pytest.raises(EinsimError, match="no such file"):
        load_yaml_file(tmp_path / "nope.yaml")
