"""Identity providers that speak the real wire formats, for the tests and the offline demo.

Each is a plain WSGI application built on an independent library (the OpenID
provider on pyop, the SAML identity provider on pysaml2): the tests serve them
over real HTTP on loopback (``mypages.testing``), development mounts them under
``/_dev/`` (:mod:`mypages_devtools.identity`). Never in production.
"""
