"""Attachments: stream-encrypted blobs in a swappable blob store, metadata as encrypted items."""
from pyramid.path import DottedNameResolver


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    store_class = DottedNameResolver().resolve(settings.blob_store)
    config.registry.blob_store = store_class(settings.storage_dir)
    config.add_request_method(lambda request: request.registry.blob_store, "blob_store", reify=True)
