"""The core's routes: liveness and readiness probes, and API keys for admins."""
