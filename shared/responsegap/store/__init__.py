"""DynamoDB storage: the only code that knows the table layout (docs/architecture.md)."""

from responsegap.store.dynamo import (
    BulkLoadError,
    DirectoryEntry,
    NotFound,
    PollState,
    PostStore,
    SaveResult,
    StoreStats,
)

__all__ = [
    "BulkLoadError",
    "DirectoryEntry",
    "NotFound",
    "PollState",
    "PostStore",
    "SaveResult",
    "StoreStats",
]
