"""One module per rule. Each module defines ``RULE = Rule(...)`` and decorates its check with ``@RULE``.

Ids are stable: MKB-001..006 are the five seed failures (MKB-005 and MKB-006 share the keepalive
article), MKB-1xx the further detectors.
"""
