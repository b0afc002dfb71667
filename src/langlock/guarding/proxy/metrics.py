"""The proxy's Prometheus metrics, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from langlock.guarding.core import GuardResult


class Metrics:
    """Prometheus counters for ``/metrics`` (one registry per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "langlock_requests", "Guarded requests", ["endpoint", "verdict"], registry=self.registry
        )
        self.generations = Counter(
            "langlock_upstream_generations", "Upstream generations", registry=self.registry
        )
        self.findings = Counter(
            "langlock_findings",
            "Major findings in upstream answers",
            ["kind"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "langlock_upstream_errors", "Failed upstream calls", ["status"], registry=self.registry
        )
        self.disconnects = Counter(
            "langlock_client_disconnects", "Streams the client left", registry=self.registry
        )
        self.added = Histogram(
            "langlock_added_latency_seconds",
            "Latency the guard added: retries, or text held until checked",
            ["endpoint"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )

    def record(self, endpoint: str, result: GuardResult, added: float | None = None) -> None:
        """Count a finished request; ``added`` overrides the guard's own latency cost (a
        stream's is the time text was held, not retries)."""
        self.requests.labels(endpoint, result.verdict).inc()
        self.generations.inc(result.generations)
        for attempt in result.attempts:
            for f in attempt.findings:
                if f.major:
                    self.findings.labels(f.kind).inc()
        self.added.labels(endpoint).observe(result.added_seconds if added is None else added)
