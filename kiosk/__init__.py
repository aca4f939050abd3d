"""Kiosk mode (self check-in at a camera screen). It has no models of its own and calls `asm` services."""
