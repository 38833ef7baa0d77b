"""Where uploaded bytes live: on disk, named by their content. No Flask, no database."""
from app.storage.attachments import AttachmentStore

__all__ = ["AttachmentStore"]
