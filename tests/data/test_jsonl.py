from __future__ import annotations

import pytest

from rewardkit.data.jsonl import iter_jsonl
from rewardkit.errors import DataError


def test_yields_file_line_numbers_and_skips_blank_lines(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"a": 2}\r\n{"a": "é"}', encoding="utf-8")
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (4, {"a": 2}), (5, {"a": "é"})]


def test_byte_order_mark_on_the_first_line_is_ignored(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n')
    assert list(iter_jsonl(path)) == [(1, {"a": 1})]


def test_reads_lazily_so_early_rows_arrive_before_a_later_bad_line(tmp_path, assert_located):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n', encoding="utf-8")
    rows = iter_jsonl(path)
    assert next(rows) == (1, {"a": 1})
    assert next(rows) == (2, {"a": 2})
    with pytest.raises(DataError) as info:
        next(rows)
    assert_located(info.value, path, 3)


def test_missing_file_fails_on_the_call_not_on_iteration(tmp_path, assert_located):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match="file not found") as info:
        iter_jsonl(path)
    assert_located(info.value, path, None)


def test_folder_is_rejected(tmp_path):
    with pytest.raises(DataError, match="folder"):
        iter_jsonl(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\n  \n\t\n"])
def test_file_without_rows_is_an_error(tmp_path, content, assert_located):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match="empty file") as info:
        list(iter_jsonl(path))
    assert_located(info.value, path, None)


def test_non_utf8_bytes_name_the_line(tmp_path, assert_located):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"a": "ok"}\n{"a": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"not valid UTF-8 \(byte 0xe9") as info:
        list(iter_jsonl(path))
    assert_located(info.value, path, 2)


def test_malformed_json_names_the_line_and_jsons_reason(tmp_path, assert_located):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 1,}\n', encoding="utf-8")
    with pytest.raises(DataError, match="malformed JSON: Expecting property name") as info:
        list(iter_jsonl(path))
    assert_located(info.value, path, 3)
    assert "column 9" in str(info.value)


@pytest.mark.parametrize(("line", "kind"), [("[1, 2]", "array"), ("3", "number"), ('"x"', "string"), ("null", "null")])
def test_a_line_that_is_not_an_object_is_an_error(tmp_path, line, kind, assert_located):
    path = tmp_path / "scalars.jsonl"
    path.write_text('{"a": 1}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"expected a JSON object, got {kind}") as info:
        list(iter_jsonl(path))
    assert_located(info.value, path, 2)


def test_every_reader_skips_the_same_blank_lines(tmp_path):
    """A line of Unicode whitespace (a no-break space) or a stray byte-order mark holds no row for any reader: the
    Ray engine's chunk index and the progress total counted such a line as a row (bytes.strip() keeps them) where
    iter_jsonl skipped it, so their row numbers drifted apart from it on."""
    from rewardkit.scale.batch_scoring import count_rows
    from rewardkit.scale.chunks import index_chunks, read_chunk
    from rewardkit.scale.partial_output import InputPrefix

    path = tmp_path / "rows.jsonl"
    row = '{"prompt": "p", "response": "%d"}\n'
    path.write_bytes(b"\xef\xbb\xbf" + (row % 1).encode() + b"\xc2\xa0\n \t\n" + (row % 2).encode() + b"\xef\xbb\xbf\n"
                     + (row % 3).encode() + b"\xe2\x80\x83 \n")
    assert [number for number, _ in iter_jsonl(path)] == [1, 4, 6]
    joined = tmp_path / "joined.jsonl"  # `cat a.jsonl b.jsonl`, b saved with a byte-order mark
    joined.write_bytes((row % 1).encode() + b"\xef\xbb\xbf" + (row % 2).encode())
    assert [r["response"] for _, r in iter_jsonl(joined)] == ["1", "2"]
    assert count_rows(str(path)) == 3
    refs = index_chunks(str(path), 2)
    assert [(ref.line, ref.rows) for ref in refs] == [(1, 2), (6, 1)]
    assert [item.row["response"] for ref in refs for item in read_chunk(str(path), ref)] == ["1", "2", "3"]
    prefix = InputPrefix(path)
    assert prefix.advance(2) and prefix.bytes == len(path.read_bytes().split(b"\xef\xbb\xbf\n")[0])
    assert prefix.advance(1) and not prefix.advance(1)
    prefix.close()
