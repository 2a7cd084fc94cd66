"""Retaliation watch: protections, HR integrations and their personnel events, reporter check-ins."""


def includeme(config) -> None:
    from whistle.protection.views import add_template_data

    config.add_subscriber(add_template_data, "pyramid.events.BeforeRender")
