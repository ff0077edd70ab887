"""The line framing fuzzed: any bytes, cut anywhere, give the lines a plain split gives; memory stays bounded.

The reference is the obvious whole-stream split on b"\\n" (one trailing b"\\r" dropped, blank lines skipped, a
line over the limit replaced by `OversizedLine`); `LineBuffer` must agree with it however the stream is cut
into chunks and however lazily its lines are taken out.
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from athena_pool.stratum.framing import LineBuffer, OversizedLine

Line = bytes | OversizedLine

# Random bytes with the framing's special bytes frequent enough to matter.
streams = st.lists(
    st.one_of(st.binary(max_size=40), st.sampled_from([b"\n", b"\r\n", b"\r", b" ", b"\t", b"\n\n"])),
    max_size=40,
).map(b"".join)
printable_lines = st.binary(min_size=1, max_size=60).map(lambda b: bytes(0x21 + x % 94 for x in b))


def reference_lines(stream: bytes, max_line: int) -> list[Line]:
    *complete, _unterminated = stream.split(b"\n")
    lines: list[Line] = []
    for line in complete:
        line = line.removesuffix(b"\r")
        if len(line) > max_line:
            lines.append(OversizedLine(len(line)))
        elif line.strip():
            lines.append(line)
    return lines


def cut(stream: bytes, data: st.DataObject) -> list[bytes]:
    points = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts"))
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in pairwise(bounds)]


def unterminated(received: bytes) -> int:
    return len(received) - (received.rfind(b"\n") + 1)


@settings(max_examples=500, deadline=None)
@given(streams, st.integers(1, 50), st.data())
def test_any_chunking_and_any_pace_give_the_reference_lines(
    stream: bytes, max_line: int, data: st.DataObject
) -> None:
    buffer = LineBuffer(max_line_bytes=max_line, max_buffer_bytes=max(max_line, len(stream)))
    lines: list[Line] = []
    for chunk in cut(stream, data):
        buffer.append(chunk)
        for _ in range(data.draw(st.integers(0, 3), label="lines taken now")):  # a server that lags
            line = buffer.next_line()
            if line is not None:
                lines.append(line)
    while (line := buffer.next_line()) is not None:
        lines.append(line)
    assert lines == reference_lines(stream, max_line)
    assert not buffer.overflowing
    assert buffer.pending_bytes == unterminated(stream)


@settings(max_examples=300, deadline=None)
@given(st.lists(printable_lines, min_size=1, max_size=20), st.integers(1, 30), st.data())
def test_oversized_lines_keep_their_place_and_shift_nothing(
    lines: list[bytes], max_line: int, data: st.DataObject
) -> None:
    stream = b"".join(line + data.draw(st.sampled_from([b"\n", b"\r\n"])) for line in lines)
    buffer = LineBuffer(max_line_bytes=max_line, max_buffer_bytes=max(max_line, len(stream)))
    received = [line for chunk in cut(stream, data) for line in buffer.feed(chunk)]
    assert received == [OversizedLine(len(line)) if len(line) > max_line else line for line in lines]


@settings(max_examples=500, deadline=None)
@given(streams, st.integers(1, 20), st.integers(0, 40), st.data())
def test_unterminated_data_never_exceeds_the_buffer_limit(
    stream: bytes, max_line: int, extra: int, data: st.DataObject
) -> None:
    max_buffer = max_line + extra
    buffer = LineBuffer(max_line_bytes=max_line, max_buffer_bytes=max_buffer)
    received = kept = b""  # kept: what came before the flood; its lines must all have come out
    lines: list[Line] = []
    for chunk in cut(stream, data):
        received += chunk
        new = buffer.feed(chunk)
        if buffer.overflowing:
            assert unterminated(received) > max_buffer
            assert new == [] and buffer.pending_bytes == 0  # the flooding chunk is dropped whole
            break
        lines += new
        assert buffer.pending_bytes == unterminated(received) <= max_buffer
        kept = received
    assert lines == reference_lines(kept, max_line)
    if buffer.overflowing:  # nothing is taken any more
        assert buffer.feed(b"late\n") == [] and buffer.pending_bytes == 0
