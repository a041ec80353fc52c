"""The fixed vocabularies an article's front matter may use.

Each is an ordered mapping of machine value -> human label; the order is the display order.
"""

CATEGORIES = {
    "startup": "Startup & lifecycle",
    "routing": "Routing & traffic management",
    "gateway": "Gateways & ingress",
    "protocol": "Protocol selection",
    "tls": "mTLS & TLS",
    "auth": "Authentication & authorization",
    "connection": "Connections & timeouts",
    "egress": "External services & egress",
    "injection": "Sidecar injection",
    "control-plane": "Control plane & certificates",
    "proxy": "Proxy resources",
}

# How bad the failure is when it happens, most severe first.
SEVERITIES = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
}

COMPONENTS = {
    "sidecar": "Sidecar proxy",
    "istiod": "istiod",
    "ingress-gateway": "Ingress gateway",
    "egress-gateway": "Egress gateway",
    "sidecar-injector": "Sidecar injector webhook",
    "istio-cni": "Istio CNI",
    "application": "Application",
    "kubernetes": "Kubernetes",
}

# Where a verbatim symptom string is seen.
SEEN_IN = {
    "client": "Client",
    "access-log": "Envoy access log",
    "proxy-log": "istio-proxy log",
    "istiod-log": "istiod log",
    "metric": "Metric",
    "k8s-event": "Kubernetes event",
    "kubectl": "kubectl",
    "istioctl": "istioctl",
    "kiali": "Kiali validation",
    "app-log": "Application log",
}

# Envoy access-log response flags (short form), from Envoy's access-log documentation.
RESPONSE_FLAGS = {
    "UH": "No healthy upstream hosts",
    "UF": "Upstream connection failure",
    "UO": "Upstream overflow (circuit breaking)",
    "NR": "No route configured",
    "URX": "Upstream retry limit exceeded",
    "NC": "Upstream cluster not found",
    "DT": "Max connection duration reached",
    "DC": "Downstream connection termination",
    "LH": "Local service failed health check",
    "UT": "Upstream request timeout",
    "LR": "Connection local reset",
    "UR": "Upstream remote reset",
    "UC": "Upstream connection termination",
    "DI": "Delayed by fault injection",
    "FI": "Aborted by fault injection",
    "RL": "Rate limited locally",
    "UAEX": "Denied by the external authorization service",
    "RLSE": "Rate limit service error",
    "IH": "Invalid value in a strictly checked header",
    "SI": "Stream idle timeout",
    "DPE": "Downstream protocol error",
    "UPE": "Upstream protocol error",
    "UMSDR": "Upstream max stream duration reached",
    "OM": "Overload manager terminated the request",
    "DF": "DNS resolution failed",
    "DO": "Dropped by overload",
}

# The body's second-level headings, in the order they must appear.
SECTIONS = {
    "symptoms": "Symptoms",
    "diagnosis": "Diagnosis",
    "root_cause": "Root cause",
    "fix": "Fix",
    "references": "References",
}
