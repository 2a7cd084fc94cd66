"""Attachments: stream-encrypted blobs in a swappable blob store, metadata as encrypted items."""
from whistle.attachments.blobs import make_blob_store
from whistle.attachments.services import shred_wraps_job, unfinished_uploads_job


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    config.registry.blob_store = make_blob_store(settings, config.registry["db_engine"])
    config.add_request_method(lambda request: request.registry.blob_store, "blob_store", reify=True)
    # Uploads in chunks that nobody finished: after the others, it only tidies.
    config.add_scheduled_job("unfinished uploads", unfinished_uploads_job(config.registry.blob_store), order=50)
    # Cases, items and files stored before the shred layer: wrapped under their shred keys.
    config.add_scheduled_job("shred wraps", shred_wraps_job(config.registry.blob_store), order=55)
