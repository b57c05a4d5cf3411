"""Application use cases without Qt: enrollment, the kiosk session, settings, re-encoding, benchmarks."""
