"""Identity providers that speak the real wire formats, for the tests and the offline demo.

Each fake is a plain WSGI application built on an independent library (the
OIDC provider on pyop), served over real HTTP by the tests and mountable
under ``/_dev/`` in development. Never in production.
"""

#: the mail domain of the demo data (``mypages demo``): verified for the demo company, so
#: ``/_dev/`` names it for the fakes to sign its people in
DEMO_DOMAIN = "demo.example"
