"""meshkb's models: the failure catalog, and the connected clusters with their scans."""

from .catalog import Article, SearchTerm, Symptom, SyncResult
from .clusters import SEVERITIES, Cluster, Finding, Scan, Suppression

__all__ = ["SEVERITIES", "Article", "Cluster", "Finding", "Scan", "SearchTerm", "Suppression", "Symptom", "SyncResult"]
