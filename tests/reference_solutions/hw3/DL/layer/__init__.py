"""Layers of the reference HW3 package."""
