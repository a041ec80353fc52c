"""Check an uploaded kubeconfig and reduce it to the one context meshkb will use.

Pure Python, no Django. A kubeconfig is hostile input: it can name local files for the
client to read and plugins for it to run. meshkb keeps only inline credentials, and refuses
exec and auth-provider plugins unless the operator explicitly allows them.
"""

from __future__ import annotations

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FILE_FIELDS = {
    "certificate-authority": "certificate-authority-data",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
    "tokenFile": "token",
}


class KubeconfigError(ValueError):
    """One line saying what is wrong with the kubeconfig."""


def parse(data: bytes | str, max_bytes: int) -> dict:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise KubeconfigError(f"kubeconfig: too large ({len(raw):,} bytes; the limit is {max_bytes:,})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KubeconfigError("kubeconfig: not UTF-8 text") from None
    if "\x00" in text:
        raise KubeconfigError("kubeconfig: contains NUL bytes (is it a binary file?)")
    try:
        config = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KubeconfigError(f"kubeconfig: not valid YAML{where}: {problem}") from None
    if not isinstance(config, dict) or not isinstance(config.get("contexts"), list):
        raise KubeconfigError("kubeconfig: not a kubeconfig (expected a mapping with clusters, contexts and users)")
    return config


def _named(config: dict, key: str) -> dict[str, dict]:
    entries = {}
    for item in config.get(key) or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            entries[item["name"]] = item.get(key[:-1]) if isinstance(item.get(key[:-1]), dict) else {}
    return entries


def context_names(config: dict) -> list[str]:
    return list(_named(config, "contexts"))


def minimal(config: dict, context: str | None, *, allow_plugins: bool = False) -> tuple[dict, str]:
    """The kubeconfig reduced to one context, and that context's name. Raises KubeconfigError."""
    contexts = _named(config, "contexts")
    if not contexts:
        raise KubeconfigError("kubeconfig: it defines no contexts")
    name = context or config.get("current-context")
    if not name:
        raise KubeconfigError(f"kubeconfig: choose a context (it has: {', '.join(contexts)})")
    if name not in contexts:
        raise KubeconfigError(f"kubeconfig: no context named {name!r} (it has: {', '.join(contexts)})")
    chosen = contexts[name]
    cluster_name, user_name = chosen.get("cluster"), chosen.get("user")
    cluster = _named(config, "clusters").get(cluster_name)
    if cluster is None:
        raise KubeconfigError(f"kubeconfig: context {name!r} refers to a cluster {cluster_name!r} that is not defined")
    users = _named(config, "users")
    user = users.get(user_name, {}) if user_name else {}
    if user_name and user_name not in users:
        raise KubeconfigError(f"kubeconfig: context {name!r} refers to a user {user_name!r} that is not defined")

    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"kubeconfig: cluster {cluster_name!r} needs a server URL (https://...)")
    for kind, entry, entry_name in (("cluster", cluster, cluster_name), ("user", user, user_name)):
        for field, inline in FILE_FIELDS.items():
            if entry.get(field):
                raise KubeconfigError(
                    f"kubeconfig: {kind} {entry_name!r} reads the file {entry[field]!r} ({field}); meshkb does not "
                    f"read files named in kubeconfigs: inline it as {inline}"
                )
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin) and not allow_plugins:
            detail = user[plugin].get("command") or user[plugin].get("name") if isinstance(user[plugin], dict) else ""
            raise KubeconfigError(
                f"kubeconfig: user {user_name!r} uses an {plugin} plugin{f' ({detail})' if detail else ''}, which would "
                "run a command on the meshkb server; use a service-account token instead, or set "
                "MESHKB_ALLOW_KUBECONFIG_PLUGINS=true"
            )
    reduced = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "contexts": [{"name": name, "context": chosen}],
        "users": [{"name": user_name, "user": user}] if user_name else [],
    }
    return reduced, name
