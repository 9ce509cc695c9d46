"""Reading request bodies with a cap, so an oversized body is refused before it is read (and never buffered)."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is (or declares itself) larger than the limit: answer 413."""

    def __init__(self, limit: int):
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class BadContentLength(Exception):
    """A Content-Length header that is not a plain non-negative decimal number: answer 400."""


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as more than `limit` bytes are declared or have arrived."""
    declared = request.headers.get("content-length")
    if declared is not None:
        # Only ASCII digits: int() would accept "١٢" or " 12 " and Unicode digits have no business in a header.
        if not declared.isascii() or not declared.isdigit() or len(declared) > 15:
            raise BadContentLength("Content-Length must be a decimal number of bytes")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
