"""whistle: a secure, anonymous, end-to-end encrypted speak-up service."""


def main(global_config, **settings):
    """The paste app factory (`use = egg:whistle`): returns the WSGI application."""
    from whistle.config import make_configurator

    return make_configurator(settings).make_wsgi_app()
