"""Pages for platform operators: companies, orders, plugins."""


def includeme(config):
    config.add_route("operator", "/operator/")
    config.add_route("operator_orders", "/operator/orders")
    config.scan(".views")
