"""Door access: turns the kiosk's per-frame face matches into access decisions (pure: no Qt, torch or I/O)."""
