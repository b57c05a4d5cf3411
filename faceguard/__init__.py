"""FaceGuard: one-shot face recognition for door access control."""

__version__ = "0.1.0"
