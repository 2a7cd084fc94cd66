"""The pluggy markers for the `whistle` project: plugins write `from whistle import hookimpl`."""
import pluggy

PROJECT = "whistle"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def receives_plaintext(spec):
    """Mark a hook spec whose arguments include decrypted case content.

    Only plugins named in `whistle.plugins.plaintext` are called for such hooks."""
    spec.whistle_plaintext = True
    return spec
