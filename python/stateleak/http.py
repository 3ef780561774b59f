"""Requests written as text, and calling WSGI and ASGI apps with them in-process."""

from __future__ import annotations

import inspect
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote

_REQUEST_LINE = re.compile(r"^([A-Z]+) (/\S*)(?: HTTP/(1\.0|1\.1|2))?$")
_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")
# Headers that differ between any two runs and say nothing about leaked state.
_VOLATILE_HEADERS = frozenset({"date", "server"})


class RequestError(ValueError):
    """A request text that does not parse."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    text: str

    def label(self) -> str:
        return self.text.splitlines()[0] if self.text else f"{self.method} {self.path}"


def parse_request(text: str, headers: Sequence[tuple[str, str]] = ()) -> Request:
    """`METHOD /path?query [HTTP/1.1]`, then `Name: value` header lines, a blank line and the body."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.strip("\n").split("\n")
    match = _REQUEST_LINE.match(lines[0].strip())
    if match is None:
        raise RequestError(
            f"not a request line: {lines[0].strip()!r} (expected `METHOD /path?query`, e.g. `GET /a?x=1`)"
        )
    method, target = match.group(1), match.group(2)
    parsed: list[tuple[str, str]] = list(headers)
    for line in lines[1:]:
        header = _HEADER.match(line)
        if header is None:
            raise RequestError(f"not a header line: {line!r} (expected `Name: value`)")
        parsed.append((header.group(1), header.group(2)))
    path, _, query = target.partition("?")
    return Request(method, path, query, tuple(parsed), body.encode("utf-8"), text.strip("\n"))


def split_requests_file(content: str) -> list[str]:
    """Requests in a file are separated by lines of `###`, as in `.http` files."""
    parts = re.split(r"^###.*$", content, flags=re.MULTILINE)
    return [part.strip("\n") for part in parts if part.strip()]


@dataclass(frozen=True)
class Response:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        body = self.body.decode("utf-8", "replace")
        return f"{self.status} {body[:200]!r}" + ("..." if len(body) > 200 else "")


def _comparable(status: str, headers: list[tuple[str, str]], body: bytes) -> Response:
    kept = tuple(sorted((k.lower(), v) for k, v in headers if k.lower() not in _VOLATILE_HEADERS))
    return Response(status, kept, body)


def is_asgi(app: Any) -> bool:
    plain = inspect.isfunction(app) or inspect.ismethod(app)
    target = app if plain else type(app).__call__
    if inspect.iscoroutinefunction(target):
        return True
    try:
        return len(inspect.signature(app).parameters) == 3
    except (TypeError, ValueError):
        return False


def call_wsgi(app: Callable[..., Any], request: Request) -> Response:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(request.path),
        "QUERY_STRING": request.query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(request.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = f"{environ[f'HTTP_{key}']},{value}" if f"HTTP_{key}" in environ else value
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started["status"], started["headers"] = status, headers
        return chunks.append

    chunks: list[bytes] = []
    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return _comparable(str(started.get("status", "")), list(started.get("headers", [])), b"".join(chunks))


def call_asgi(app: Callable[..., Any], request: Request) -> Response:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": unquote(request.path),
        "raw_path": request.path.encode("latin-1", "replace"),
        "query_string": request.query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    messages: list[dict[str, Any]] = []
    # Imported here: the package is loaded by every pytest session, which needs no event loop.
    import asyncio

    async def exchange() -> None:
        # Made inside the running loop: on 3.9 an Event binds to the loop current at creation.
        answered = asyncio.Event()
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await answered.wait()  # the client disconnects only once the answer is complete
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if message.get("type") == "http.response.body" and not message.get("more_body", False):
                answered.set()

        await app(scope, receive, send)

    asyncio.run(exchange())
    status: int | None = None
    headers: list[tuple[str, str]] = []
    body = b""
    for message in messages:
        if message.get("type") == "http.response.start":
            status = int(message["status"])
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message.get("type") == "http.response.body":
            body += message.get("body", b"")
    return _comparable(str(status), headers, body)
