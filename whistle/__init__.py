"""whistle: a secure, anonymous speak-up service; content is encrypted before it is stored."""
from whistle.hooks.markers import hookimpl  # re-exported for plugins: `from whistle import hookimpl`

__all__ = ["hookimpl", "main"]


def main(global_config, **settings):
    """The paste app factory (`use = egg:whistle`): returns the WSGI application."""
    # The app is imported when one is made, not with this package: every plugin imports `whistle`
    # for hookimpl, and must not pull in the whole app (whose start-up loads the plugins) by it.
    from whistle import devmail
    from whistle.config import make_configurator
    from whistle.scheduler.thread import start_if_enabled

    app = make_configurator(settings).make_wsgi_app()
    # whistle.dev.mail_server: before the scheduler, whose first tick may already send to it.
    devmail.start_if_enabled(app.registry)
    start_if_enabled(app.registry)  # whistle.scheduler.embedded: the tick in a thread
    return app
