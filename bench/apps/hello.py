"""A bare Pyramid hello world: no add-on tweens, no database, no templates."""
from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("Hello World!", content_type="text/plain")


def make_app():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()

