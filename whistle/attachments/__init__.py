"""Attachments: stream-encrypted blobs in a swappable blob store, metadata as encrypted items."""
from whistle.attachments.blobs import make_blob_store
from whistle.attachments.services import partial_blobs_job, shred_wraps_job, unfinished_uploads_job
from whistle.attachments.unreferenced import unreferenced_blobs_job


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    config.registry.blob_store = make_blob_store(settings, config.registry["db_engine"])
    config.add_request_method(lambda request: request.registry.blob_store, "blob_store", reify=True)
    # Uploads in chunks that nobody finished: after the others, it only tidies.
    config.add_scheduled_job("unfinished uploads", unfinished_uploads_job(config.registry.blob_store), order=50)
    # Blobs a node began writing and never finished (it stopped mid-write): deleted.
    forget_partial = getattr(config.registry.blob_store, "forget_partial", None)
    if forget_partial is not None:
        config.add_scheduled_job("partial blobs", partial_blobs_job(forget_partial), order=52)
    # Cases, items and files stored before the shred layer: wrapped under their shred keys.
    config.add_scheduled_job("shred wraps", shred_wraps_job(config.registry.blob_store), order=55)
    # Blobs no file names (a crash between a blob's commit and its row's): deleted after a grace period.
    config.add_scheduled_job("unreferenced blobs", unreferenced_blobs_job(config.registry.blob_store), order=56)
