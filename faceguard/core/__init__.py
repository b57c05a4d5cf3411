"""Core: typed errors, the dataclasses that cross layers, paths; imports nothing else of FaceGuard."""
