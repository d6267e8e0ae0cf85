"""A DCAT-AP.de catalogue served over HTTP in hydra pages, with faults on request.

Used by ``bench/harvest.py`` and the harvester tests: a real HTTP server (threads, keep-alive,
ETags) whose pages can be changed between runs, and which can be told to cut the connection in
the middle of a page, answer 500, send malformed RDF or answer too slowly.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HYDRA = "http://www.w3.org/ns/hydra/core#"


@dataclass
class Fault:
    page: int  # 1-based
    kind: str  # drop | 500 | malformed | slow
    delay: float = 0.0


def generated_pages(total: int, per_page: int, seed: int = 1) -> list[str]:
    """``total`` generated datasets as Turtle pages of ``per_page`` (without paging links)."""
    from bench.generate import generate_catalog

    return [
        generate_catalog(min(per_page, total - start), seed=seed, start=start)
        for start in range(0, total, per_page)
    ]


def touch_page(page: str) -> str:
    """The page with the title of its first dataset changed."""
    at = page.index('dcterms:title "', page.index("a dcat:Dataset"))
    return page[:at] + page[at:].replace('title "', 'title "Geändert: ', 1)


class PagedCatalog:
    def __init__(self, pages: list[str], path: str = "/catalog.ttl") -> None:
        self.pages = list(pages)
        self.path = path
        self.fault: Fault | None = None
        self.served: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PagedCatalog:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def page_url(self, n: int) -> str:
        return f"{self.url}?page={n}"

    def body(self, n: int) -> bytes:
        """Page ``n`` (1-based) with its hydra links."""
        last = len(self.pages)
        view = self.page_url(n)
        links = [
            f"<{view}> a <{HYDRA}PartialCollectionView> ;",
            f"  <{HYDRA}first> <{self.page_url(1)}> ;",
            f"  <{HYDRA}last> <{self.page_url(last)}>",
        ]
        if n < last:
            links[-1] += " ;"
            links.append(f"  <{HYDRA}next> <{self.page_url(n + 1)}>")
        if n > 1:
            links[-1] += " ;"
            links.append(f"  <{HYDRA}previous> <{self.page_url(n - 1)}>")
        return (self.pages[n - 1] + "\n" + "\n".join(links) + " .\n").encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        catalog = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parsed = urlparse(self.path)
                if parsed.path != catalog.path:
                    self._send(404, b"not found", "text/plain")
                    return
                try:
                    n = int(parse_qs(parsed.query).get("page", ["1"])[0])
                except ValueError:
                    n = 0
                if not 1 <= n <= len(catalog.pages):
                    self._send(404, b"no such page", "text/plain")
                    return
                catalog.served.append(self.path)
                body = catalog.body(n)
                fault = catalog.fault
                if fault is not None and fault.page == n:
                    if fault.kind == "500":
                        self._send(500, b"Internal Server Error", "text/plain")
                        return
                    if fault.kind == "slow":
                        time.sleep(fault.delay)
                    if fault.kind == "malformed":
                        body = body[: len(body) // 2] + b"\n<broken> <<< ;; .\n"
                    if fault.kind == "drop":
                        self._drop(body)
                        return
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, body, "text/turtle; charset=utf-8", etag)

            def do_POST(self) -> None:  # noqa: N802
                """``POST /_touch``: change one dataset title per page (benchmarks' 1 %)."""
                if urlparse(self.path).path != "/_touch":
                    self._send(404, b"not found", "text/plain")
                    return
                catalog.pages = [touch_page(p) for p in catalog.pages]
                self._send(200, b"touched", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def _drop(self, body: bytes) -> None:
                """Promise the whole page, send half of it, then cut the connection."""
                self.send_response(200)
                self.send_header("Content-Type", "text/turtle; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        return Handler


def main() -> None:
    """Serve a generated catalogue until killed; prints the catalogue's URL on one line."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with PagedCatalog(generated_pages(args.datasets, args.per_page, args.seed)) as catalog:
        print(catalog.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
