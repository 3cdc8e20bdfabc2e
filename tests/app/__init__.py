"""Pilot tests of the Textual app; ``scenes`` holds what they share with snapshots and screenshots."""
