"""The signed key directory: the guardians' public keys the organisation key vouches for, the only
keys the server seals cases to (docs/crypto.md, "The signed key directory")."""
from whistle.key_directory.services import resign_job


def includeme(config) -> None:
    # Last of the tick's jobs: it changes nothing the others read, and runs every tick.
    config.add_scheduled_job("key directory", resign_job, order=40)
