"""meshkb's models: the failure catalog, the connected clusters with their scans, and API tokens."""

from .catalog import Article, SearchTerm, Symptom, SyncResult
from .clusters import SEVERITIES, Cluster, Finding, Scan, Suppression
from .tokens import ApiToken

__all__ = ["SEVERITIES", "ApiToken", "Article", "Cluster", "Finding", "Scan", "SearchTerm", "Suppression", "Symptom", "SyncResult"]
