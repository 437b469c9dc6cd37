"""What the fakes of outside services are served with: a quiet WSGI request handler that
sends each write at once, and a threading WSGI server."""
from __future__ import annotations

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class QuietHandler(WSGIRequestHandler):
    """No access log; TCP_NODELAY, because the status line and headers go out in one write
    and the body in another: with Nagle's algorithm the body would wait for the client's
    delayed acknowledgement of the headers, some 40 ms on Linux, on every answer."""

    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass


class ThreadingWsgiServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
