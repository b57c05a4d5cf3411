"""Qt-free vision engine: detection, alignment, encoding, quality."""
