"""A small deep-learning package shaped like the HW3 handout (reference solution)."""
