"""Operations endpoints and plumbing: liveness/readiness probes and JSON logging."""
