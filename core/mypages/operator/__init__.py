"""Pages for platform operators: companies, orders, plugins and the platform's sign-in policy."""


def includeme(config):
    config.add_route("operator", "/operator/")
    config.add_route("operator_orders", "/operator/orders")
    config.add_route("operator_security", "/operator/security")
    config.scan(".views")
