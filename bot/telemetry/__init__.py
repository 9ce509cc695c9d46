"""Evidence from telemetry: Prometheus range queries, anomaly detection, SLOs and error-budget burn."""
