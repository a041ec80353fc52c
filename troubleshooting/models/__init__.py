"""meshkb's models: the failure catalog, and the connected clusters with their scans."""

from .catalog import Article, SearchTerm, Symptom, SyncResult

__all__ = ["Article", "SearchTerm", "Symptom", "SyncResult"]
