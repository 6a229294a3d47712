"""Comparison: the engine, regression fixtures, golden document cells, hints."""
